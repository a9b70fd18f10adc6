export { SecretMasker, createMasker, maskReplacement, maskedForms } from './masking.ts';
