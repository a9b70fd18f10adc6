import { definePermissions } from '../../platform/permissions.ts';

export const projectPermissions = definePermissions({
  'projects.project.apply': 'Apply Project resources',
  'projects.project.read': 'Read projects',
  'projects.environment.apply': 'Apply Environment resources (protection rules)',
  'projects.environment.read': 'Read environments and their protection rules',
});
