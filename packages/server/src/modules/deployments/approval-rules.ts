import { createHash } from 'node:crypto';
import { canonicalJson } from '@custody/ledger';

// What a deployment approval is bound to. Any change to any field gives a new hash, and an
// approval given for the old hash no longer counts.
export interface DeploymentIntent {
  readonly pipeline: { project: string; name: string; version: number; contentHash: string };
  readonly artifacts: readonly { name: string; digest: string }[];
  readonly environment: string; // project/environment
  readonly inputs: Readonly<Record<string, string>>;
  readonly commit: string | null;
}

export function intentHash(intent: DeploymentIntent): string {
  return `sha256:${createHash('sha256').update(canonicalJson(intent)).digest('hex')}`;
}

export interface ApprovalRule {
  readonly name: string;
  readonly group?: string | undefined;
  readonly users?: readonly string[] | undefined;
  // Anyone allowed to approve at the environment (the implicit four-eyes rule).
  readonly anyone?: boolean | undefined;
  readonly required: number;
}

// A production environment without approval rules still needs a second person: four eyes is
// the default that cannot be switched off (only a standard or active emergency change stands in).
export const fourEyesRule: ApprovalRule = { name: 'four-eyes', anyone: true, required: 1 };

export function rulesInForce(env: {
  type: string;
  spec: { approvals?: { rules?: readonly ApprovalRule[] } | undefined };
}): readonly ApprovalRule[] {
  const rules = env.spec.approvals?.rules ?? [];
  return rules.length === 0 && env.type === 'production' ? [fourEyesRule] : rules;
}

export interface Approver {
  readonly principal: string; // user:NAME
  readonly groups: readonly string[];
}

export interface RuleProgress {
  readonly name: string;
  readonly required: number;
  readonly counted: string[];
  readonly missing: number;
}

const bare = (p: string) => (p.includes(':') ? p.slice(p.indexOf(':') + 1) : p);

export function eligible(rule: ApprovalRule, approver: Approver): boolean {
  if (rule.anyone) return true;
  if (rule.group) return approver.groups.includes(rule.group);
  const name = bare(approver.principal);
  // `bob` or `user:bob`; never another system's login (`github:bob` is not `user:bob`).
  return (rule.users ?? []).some(
    (u) => u === approver.principal || (!u.includes(':') && u.toLowerCase() === name.toLowerCase()),
  );
}

// All rules must be met and one person counts once, even when they are in the groups of two
// rules: a maximum bipartite matching of approvers onto the rules' required slots.
export function evaluateRules(
  rules: readonly ApprovalRule[],
  approvers: readonly Approver[],
): { met: boolean; rules: RuleProgress[] } {
  const slots: number[] = [];
  rules.forEach((r, i) => {
    for (let n = 0; n < r.required; n++) slots.push(i);
  });
  const slotOwner: (number | undefined)[] = slots.map(() => undefined);
  const tryAssign = (a: number, seen: Set<number>): boolean => {
    for (let s = 0; s < slots.length; s++) {
      if (seen.has(s) || !eligible(rules[slots[s]!]!, approvers[a]!)) continue;
      seen.add(s);
      const owner = slotOwner[s];
      if (owner === undefined || tryAssign(owner, seen)) {
        slotOwner[s] = a;
        return true;
      }
    }
    return false;
  };
  approvers.forEach((_, a) => tryAssign(a, new Set()));
  const progress = rules.map((r, i) => {
    const counted = slots
      .map((ruleIdx, s) => (ruleIdx === i ? slotOwner[s] : undefined))
      .filter((a): a is number => a !== undefined)
      .map((a) => approvers[a]!.principal);
    return { name: r.name, required: r.required, counted, missing: r.required - counted.length };
  });
  return { met: progress.every((p) => p.missing === 0), rules: progress };
}
