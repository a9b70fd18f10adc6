import { DomainError } from '../../platform/errors.ts';
import type { PipelineSpec } from '../pipelines/index.ts';
import { executionErrors } from './errors.ts';

// The inputs of a new run: only declared ones, defaults filled in, required ones present.
export function resolveInputs(
  pipeline: { name: string; spec: PipelineSpec },
  given: Record<string, string> | undefined,
): Record<string, string> {
  const declared = new Map((pipeline.spec.inputs ?? []).map((i) => [i.name, i]));
  const inputs: Record<string, string> = {};
  for (const [name, value] of Object.entries(given ?? {})) {
    if (!declared.has(name))
      throw new DomainError(
        executionErrors.EXECUTIONS_INPUT_UNKNOWN,
        `pipeline ${pipeline.name} has no input ${name}`,
        { declared: [...declared.keys()] },
      );
    inputs[name] = value;
  }
  for (const d of declared.values()) {
    if (inputs[d.name] !== undefined) continue;
    if (d.default !== undefined) inputs[d.name] = d.default;
    else if (d.required)
      throw new DomainError(
        executionErrors.EXECUTIONS_INPUT_MISSING,
        `input ${d.name} is required`,
      );
  }
  return inputs;
}
