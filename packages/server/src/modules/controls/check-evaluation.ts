import type { EnvironmentSpec } from '../projects/index.ts';
import { actionMatcher } from '../streams/index.ts';
import { checkCatalog, type CheckState, type ControlName } from './catalog.ts';
import type { ControlSnapshot, VersionedDocument } from './control-inputs.ts';

export interface CheckResult {
  readonly check: string;
  readonly control: ControlName;
  readonly title: string;
  readonly project: string;
  readonly environment: string;
  readonly state: CheckState;
  readonly message: string;
  // What was read and the values that decide, the environment's version first.
  readonly evidence: Record<string, unknown>;
}

type Verdict = { state: CheckState; message: string; evidence?: Record<string, unknown> };
type Env = VersionedDocument<EnvironmentSpec>;

// Thresholds the checks use (docs/reference/controls.md).
export const checkpointMaxAgeMs = 3_600_000;
export const streamMaxPending = 1000;
export const retentionMinYears = 7;
export const retentionMissing = 'retention is not reported by this installation';

const pass = (message: string, evidence?: Record<string, unknown>): Verdict => ({
  state: 'pass',
  message,
  ...(evidence ? { evidence } : {}),
});
const fail = (message: string, evidence?: Record<string, unknown>): Verdict => ({
  state: 'fail',
  message,
  ...(evidence ? { evidence } : {}),
});
const notConfigured = (message: string, evidence?: Record<string, unknown>): Verdict => ({
  state: 'not_configured',
  message,
  ...(evidence ? { evidence } : {}),
});
const ref = (d: VersionedDocument) => ({
  name: d.document.metadata.project
    ? `${d.document.metadata.project}/${d.document.metadata.name}`
    : d.document.metadata.name,
  version: d.version,
  contentHash: d.contentHash,
});

export const isProduction = (e: Env) => e.document.spec.type === 'production';

type Evaluator = (env: Env, s: ControlSnapshot) => Verdict | Promise<Verdict>;

const approvalsRequired = (env: Env) =>
  (env.document.spec.approvals?.rules ?? []).reduce((n, r) => n + r.required, 0);

const evaluators: Record<string, Evaluator> = {
  'deployment.approvals-required': (env) => {
    const n = approvalsRequired(env);
    const rules = (env.document.spec.approvals?.rules ?? []).map((r) => ({
      name: r.name,
      required: r.required,
    }));
    return n >= 1
      ? pass(`${n} approval(s) required`, { approvalsRequired: n, rules })
      : fail('no approval rule: a deployment needs nobody to approve it', {
          approvalsRequired: 0,
          rules,
        });
  },
  'segregation.authors-excluded': (env) => {
    const n = approvalsRequired(env);
    const unlinkedAuthors = env.document.spec.sod?.unlinkedAuthors ?? 'allow';
    if (n === 0)
      return notConfigured('no approval rule: there is no approver to exclude anyone from', {
        approvalsRequired: 0,
        unlinkedAuthors,
      });
    return unlinkedAuthors === 'block'
      ? pass(
          'the gate excludes every linked author, committer and the triggerer, and blocks authors linked to no user',
          {
            approvalsRequired: n,
            unlinkedAuthors,
          },
        )
      : fail(
          'authors linked to no user are only noted, so they may approve under their account (set sod.unlinkedAuthors: block)',
          { approvalsRequired: n, unlinkedAuthors },
        );
  },
  'testing.promotion-required': (env, s) => {
    const project = env.document.metadata.project!;
    const requires = env.document.spec.promotion?.requires ?? [];
    if (requires.length === 0)
      return fail('no promotion rule: a release can reach production untested', { requires });
    const found = requires.map((name) => {
      const e = s.environments.find(
        (x) => x.document.metadata.project === project && x.document.metadata.name === name,
      );
      return { name, type: e?.document.spec.type ?? null, ...(e ? { version: e.version } : {}) };
    });
    const preProduction = found.filter((f) => f.type === 'pre-production');
    return preProduction.length > 0
      ? pass(`promotion from ${preProduction.map((f) => f.name).join(', ')} required`, {
          requires: found,
        })
      : fail('no required environment is a pre-production environment of the project', {
          requires: found,
        });
  },
  'change.ticket-required': (env) => {
    const changeRecord = env.document.spec.changeRecord;
    return changeRecord !== 'none'
      ? pass(`a ${changeRecord} change record is required`, { changeRecord })
      : fail('changeRecord is none: deployments need no ticket', { changeRecord });
  },
  'testing.quality-gates-configured': (env) => {
    const gates = env.document.spec.qualityGates ?? {};
    const configured = (['tests', 'coverage', 'findings', 'sbom'] as const).filter(
      (g) => gates[g] !== undefined,
    );
    const testsRequired = gates.tests ? gates.tests.required : false;
    return configured.length > 0
      ? pass(`quality gates: ${configured.join(', ')}`, { qualityGates: configured, testsRequired })
      : fail('no quality gate: nothing about the evidence of a release is required', {
          qualityGates: [],
        });
  },
  'deployment.runner-pool-dedicated': (env, s) => {
    const pool = env.document.spec.runnerPool ?? 'default';
    const sharedWith = s.environments
      .filter((e) => !isProduction(e) && (e.document.spec.runnerPool ?? 'default') === pool)
      .map((e) => `${e.document.metadata.project}/${e.document.metadata.name}`);
    const buildStages = s.pipelines.flatMap((p) =>
      p.document.spec.stages
        .filter((st) => st.type === 'ci' && (st.runnerPool ?? 'default') === pool)
        .map((st) => `${p.document.metadata.project}/${p.document.metadata.name}:${st.name}`),
    );
    const evidence = {
      runnerPool: pool,
      explicit: env.document.spec.runnerPool !== undefined,
      sharedWith,
      buildStages,
    };
    if (env.document.spec.runnerPool === undefined)
      return fail('no runnerPool: deployments run in the shared default pool', evidence);
    return sharedWith.length === 0 && buildStages.length === 0
      ? pass(`pool ${pool} is used by production environments only`, evidence)
      : fail(`pool ${pool} is shared with non-production work`, evidence);
  },
  'change.freeze-windows-defined': (env, s) => {
    const project = env.document.metadata.project!;
    const id = `${project}/${env.document.metadata.name}`;
    const covering = s.freezeWindows.filter((w) => {
      if (w.document.spec.enabled === false) return false;
      const sc = w.document.spec.scope;
      return (
        (sc.environmentTypes ?? []).includes(env.document.spec.type) ||
        (sc.projects ?? []).includes(project) ||
        (sc.environments ?? []).includes(id)
      );
    });
    const windows = covering.map(ref);
    return windows.length > 0
      ? pass(`${windows.length} freeze window(s) cover it`, { windows })
      : fail('no enabled freeze window covers it', {
          windows,
          disabled: s.freezeWindows.filter((w) => w.document.spec.enabled === false).map(ref),
        });
  },
  'deployment.policies-bound': (env, s) => {
    if (s.policies.length === 0)
      return notConfigured('no policy exists in this installation', { policies: 0 });
    const project = env.document.metadata.project!;
    const proj = s.projects.find((p) => p.document.metadata.name === project);
    const names = [
      ...new Set([...(proj?.document.spec.policies ?? []), ...(env.document.spec.policies ?? [])]),
    ];
    const resolve = (name: string) =>
      s.policies.find(
        (p) => p.document.metadata.name === name && p.document.metadata.project === project,
      ) ??
      s.policies.find((p) => p.document.metadata.name === name && !p.document.metadata.project);
    const bound = names.flatMap((n) => {
      const p = resolve(n);
      return p ? [ref(p)] : [];
    });
    const missing = names.filter((n) => !resolve(n));
    const organizationWide = s.policies.filter((p) => !p.document.metadata.project).map(ref);
    const evidence = {
      bound,
      missing,
      organizationWide,
      ...(proj ? { project: ref(proj) } : {}),
    };
    if (missing.length > 0)
      return fail(`bound policies do not exist: ${missing.join(', ')}`, evidence);
    return bound.length + organizationWide.length > 0
      ? pass(`${bound.length + organizationWide.length} polic(ies) decide for it`, evidence)
      : fail('policies exist, but none is bound to the environment or its project', evidence);
  },
  'monitoring.audit-stream-delivering': (_env, s) => {
    // A stream whose `actions` filter leaves out this catalog's entries does not watch it.
    const watches = (st: ControlSnapshot['streams'][number]) =>
      ['controls.check.weakened', 'controls.check.restored'].every(
        actionMatcher(st.actions ?? undefined),
      );
    const streams = s.streams.map((st) => ({
      name: st.name,
      version: st.version,
      enabled: st.enabled,
      receivesControlEntries: watches(st),
      pending: st.pending,
      lastError: st.lastError,
      lastDeliveryAt: st.lastDeliveryAt,
    }));
    const delivering = s.streams.filter(
      (st) =>
        st.enabled &&
        watches(st) &&
        st.lastError === null &&
        st.pending <= streamMaxPending &&
        (st.pending === 0 || st.lastDeliveryAt !== null),
    );
    if (delivering.length > 0)
      return pass(`delivering: ${delivering.map((d) => d.name).join(', ')}`, { streams });
    if (s.streams.length === 0) return fail('no audit stream exists', { streams });
    if (!s.streams.some((st) => st.enabled))
      return fail('every audit stream is paused', { streams });
    if (!s.streams.some((st) => st.enabled && watches(st)))
      return fail("no enabled audit stream's actions include the controls entries", { streams });
    return fail('no enabled audit stream is delivering (failing, behind, or never delivered)', {
      streams,
    });
  },
  'audit-trail.checkpoint-recent': (_env, s) => {
    if (!s.checkpoint)
      return s.ledgerSize === 0
        ? pass('the ledger is empty', { checkpoint: null, ledgerSize: 0 })
        : fail('no ledger checkpoint has been signed', {
            checkpoint: null,
            ledgerSize: s.ledgerSize,
          });
    const ageMs = s.at.getTime() - new Date(s.checkpoint.createdAt).getTime();
    const unsigned = Math.max(0, s.ledgerSize - s.checkpoint.size);
    const evidence = {
      checkpoint: s.checkpoint,
      ageMs,
      maxAgeMs: checkpointMaxAgeMs,
      ledgerSize: s.ledgerSize,
      unsigned,
    };
    // A quiet ledger signs nothing new: a checkpoint covering every entry stays current.
    if (unsigned === 0) return pass('the latest checkpoint covers every entry', evidence);
    return ageMs <= checkpointMaxAgeMs
      ? pass('the latest checkpoint is less than an hour old', evidence)
      : fail(
          `${unsigned} entries wait for a checkpoint and the latest is older than an hour`,
          evidence,
        );
  },
  'retention.evidence-seven-years': (env, s) => {
    if (!s.retention) return notConfigured(retentionMissing);
    const years = s.retention.get(env.document.metadata.project!);
    if (years === undefined)
      return notConfigured('no retention period is set for the project', { years: null });
    return years >= retentionMinYears
      ? pass(`evidence is kept ${years} years`, { years, minYears: retentionMinYears })
      : fail(`evidence is kept ${years} years, less than ${retentionMinYears}`, {
          years,
          minYears: retentionMinYears,
        });
  },
  'change.emergency-reviews-on-time': (env, s) => {
    const project = env.document.metadata.project!;
    const mine = s.failures.filter(
      (f) => f.project === project && f.environment === env.document.metadata.name,
    );
    const overdue = mine.filter((f) => f.kind === 'emergency_review_overdue');
    const late = mine.filter((f) => f.kind === 'emergency_review_late');
    const evidence = {
      overdue: overdue.map((f) => ({ change: f.changeId, dueAt: f.dueAt })),
      late: late.map((f) => ({ change: f.changeId, dueAt: f.dueAt, reviewedAt: f.reviewedAt })),
    };
    return overdue.length === 0
      ? pass(
          late.length === 0
            ? 'no emergency review is overdue'
            : `no emergency review is overdue (${late.length} came late)`,
          evidence,
        )
      : fail(`${overdue.length} emergency review(s) overdue`, evidence);
  },
};

// Every check of every production environment (or of those `only` keeps).
export async function evaluateCatalog(
  s: ControlSnapshot,
  only?: (project: string, environment: string) => boolean,
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const env of s.environments.filter(isProduction)) {
    const project = env.document.metadata.project!;
    const environment = env.document.metadata.name;
    if (only && !only(project, environment)) continue;
    for (const c of checkCatalog) {
      const v = await evaluators[c.id]!(env, s);
      out.push({
        check: c.id,
        control: c.control,
        title: c.title,
        project,
        environment,
        state: v.state,
        message: v.message,
        evidence: {
          environmentVersion: { version: env.version, contentHash: env.contentHash },
          ...v.evidence,
        },
      });
    }
  }
  return out;
}
