import type { z } from 'zod';
import type { RequestContext, Scope } from '../../platform/context.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';

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
  /** The version that was in force until this one, if any. */
  readonly previous: ResourceDocument<S> | undefined;
}

export interface MaterializeOutcome {
  /** The approval request that must be approved before this version takes effect. */
  readonly approval?: string;
}

// What a kind's `governed` check may read, inside the apply transaction: documents of any
// kind as the resources module holds them. Controls read the version in force; a check that
// asks "who could this reach" also counts versions waiting for approval, so an approver is
// never shown a harmless name whose meaning changed while the request waited.
export interface GovernanceReader {
  inForce(kind: string): Promise<ResourceDocument[]>;
  pending(kind: string): Promise<ResourceDocument[]>;
}

export interface GovernanceInput<S> {
  readonly tx: AnyTx;
  readonly doc: ResourceDocument<S>;
  /** The version in force (what the module's tables hold), undefined for a new resource. */
  readonly inForce: ResourceDocument<S> | undefined;
  readonly ctx: RequestContext;
  readonly read: GovernanceReader;
}

export interface Governance {
  /** Why a second person must approve: the approver's summary and the audit entry say it. */
  readonly reason: string;
  /** Where deciding is authorized (default: the scope the kind is applied at). */
  readonly scope?: Scope | undefined;
}

// A module plugs a resource kind into `apply` with one of these. The resources module owns
// parsing, validation reporting, versioning, four-eyes governance and auditing; the handler
// owns meaning.
export interface KindHandler<S = unknown> {
  readonly kind: string;
  // `either`: applied organization-wide without metadata.project, or to one project with it.
  readonly scope: 'organization' | 'project' | 'either';
  readonly spec: z.ZodType<S>;
  // Permission needed to apply this kind, checked at `scopeOf(doc)`.
  readonly applyPermission: string;
  readonly readPermission: string;
  readonly description: string;
  scopeOf?(doc: ResourceDocument<S>): Scope;
  // Cross-resource checks inside the apply transaction; throw a DomainError to refuse.
  validate?(tx: AnyTx, doc: ResourceDocument<S>, ctx: RequestContext): Promise<void>;
  // Policies (`custody.pipeline`) on a new version's content, after validation and before it
  // is stored; throws to refuse. Not asked when the content is unchanged.
  admit?(
    tx: AnyTx,
    doc: ResourceDocument<S>,
    ctx: RequestContext,
    record: RecordAudit,
  ): Promise<void>;
  // Whether this new version weakens a control enough to need a second person. A governed
  // version is stored but pending: `materialize` runs only once someone other than its
  // author approves it. Not asked when the content equals the version in force.
  governed?(input: GovernanceInput<S>): Promise<Governance | undefined>;
  // Write the module's own tables for a version that is now in force: at apply time, or in
  // the approval's transaction for a governed version. (Pipelines name their own approval.)
  materialize?(
    tx: AnyTx,
    applied: AppliedResource<S>,
    ctx: RequestContext,
  ): Promise<MaterializeOutcome | void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKindHandler = KindHandler<any>;
