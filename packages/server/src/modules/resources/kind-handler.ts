import type { z } from 'zod';
import type { RequestContext, Scope } from '../../platform/context.ts';
import type { AnyTx } from '../../platform/db/database.ts';

export interface ResourceDocument<S = unknown> {
  readonly apiVersion: 'custody/v1';
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly project?: string | undefined;
    readonly labels?: Record<string, string> | undefined;
  };
  readonly spec: S;
}

export interface AppliedResource<S = unknown> extends ResourceDocument<S> {
  readonly version: number;
  readonly contentHash: string;
  readonly previous: ResourceDocument<S> | undefined;
}

export interface MaterializeOutcome {
  /** The approval request that must be approved before this version takes effect. */
  readonly approval?: string;
}

// A module plugs a resource kind into `apply` with one of these. The resources module owns
// parsing, validation reporting, versioning and auditing; the handler owns meaning.
export interface KindHandler<S = unknown> {
  readonly kind: string;
  readonly scope: 'organization' | 'project';
  readonly spec: z.ZodType<S>;
  // Permission needed to apply this kind, checked at `scopeOf(doc)`.
  readonly applyPermission: string;
  readonly readPermission: string;
  readonly description: string;
  scopeOf?(doc: ResourceDocument<S>): Scope;
  // Cross-resource checks inside the apply transaction; throw a DomainError to refuse.
  validate?(tx: AnyTx, doc: ResourceDocument<S>, ctx: RequestContext): Promise<void>;
  // Write the module's own tables for the new version. A version that takes effect only
  // once a second person approves it names the approval request.
  materialize?(
    tx: AnyTx,
    applied: AppliedResource<S>,
    ctx: RequestContext,
  ): Promise<MaterializeOutcome | void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKindHandler = KindHandler<any>;
