import { definePermissions } from '../../platform/permissions.ts';

export const changePermissions = definePermissions({
  'changes.request.create': 'Request a change (standard, normal or emergency)',
  'changes.request.read': 'List and read change requests',
  'changes.request.activate':
    'Activate an emergency (break-glass) change requested by someone else',
  'changes.request.review': 'Record the post-implementation review of an emergency change',
  'changes.template.apply': 'Apply ChangeTemplate resources (pre-approved standard changes)',
  'changes.template.read': 'Read change templates',
  'changes.connector.apply': 'Apply ChangeConnector resources (ServiceNow, Jira)',
  'changes.connector.read': 'Read change connectors and check a ticket through one',
  'changes.connector.manage': 'Set the (write-only) credentials of a change connector',
  'changes.control-failure.read': 'List control failures such as overdue emergency reviews',
});
