import { definePermissions } from '../../platform/permissions.ts';

export const retentionPermissions = definePermissions({
  'retention.hold.place': 'Place a legal hold on a project, an environment or a change',
  'retention.hold.release':
    "Request the release of a legal hold, or approve another person's request",
  'retention.hold.read': 'List legal holds and read one',
  'retention.period.read': "Read a project's effective retention period",
  'retention.fixity.check': 'Run the fixity check (re-hash stored blobs and documents) on demand',
});
