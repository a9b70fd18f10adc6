import { definePermissions } from '../../platform/permissions.ts';

export const resourcePermissions = definePermissions({
  'resources.manifest.apply':
    'Submit manifests to `apply` (each resource kind also needs its own apply permission)',
  'resources.resource.read': 'Read resources, their versions and diffs',
});
