import type { Command } from 'commander';
import { registerAttestationCommands } from './attestation.ts';
import { registerAuditCommands } from './audit.ts';
import { registerAuthCommands } from './auth.ts';
import { registerChangeCommands } from './changes.ts';
import { registerControlCommands } from './controls.ts';
import { registerDeploymentCommands } from './deployments.ts';
import { registerDossierCommands } from './dossier.ts';
import { registerEvidenceCommands } from './evidence.ts';
import { registerIdentityCommands } from './identity.ts';
import { registerResourceCommands } from './resources.ts';
import { registerRetentionCommands } from './retention.ts';
import { registerServerCommands } from './server.ts';
import { registerPipelineCommands } from './pipelines.ts';
import { registerPolicyCommands } from './policy.ts';
import { registerReportCommands } from './report.ts';
import { registerScmCommands, registerSecretCommands } from './secrets.ts';
import { registerRunnerCommands } from './runner.ts';
import { registerWitnessCommands } from './witness.ts';

// Each capability registers its commands here.
export const commandModules: ((program: Command) => unknown)[] = [
  registerServerCommands,
  registerAuthCommands,
  registerIdentityCommands,
  registerResourceCommands,
  registerAuditCommands,
  registerPipelineCommands,
  registerRunnerCommands,
  registerChangeCommands,
  registerPolicyCommands,
  registerDeploymentCommands,
  registerEvidenceCommands,
  registerRetentionCommands,
  registerSecretCommands,
  registerScmCommands,
  registerWitnessCommands,
  registerAttestationCommands,
  registerReportCommands,
  registerDossierCommands,
  registerControlCommands,
];
