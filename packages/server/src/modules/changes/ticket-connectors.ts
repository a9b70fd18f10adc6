import { parseDuration } from '../../platform/duration.ts';
import { DomainError } from '../../platform/errors.ts';
import type { ChangeConnectorSpec } from './change-spec.ts';
import { changeErrors } from './errors.ts';

export type DeploymentOutcome = 'succeeded' | 'failed' | 'rolled_back';

export interface TicketCredentials {
  readonly auth: 'basic' | 'bearer';
  readonly username: string | null;
  readonly secret: string;
}

export interface TicketStatus {
  readonly ticket: string;
  readonly found: boolean;
  readonly approved: boolean;
  // The ticket system's own words: ServiceNow state/approval, Jira status name.
  readonly state: string | null;
  readonly reason: string;
}

export interface TicketConnector {
  check(ticket: string): Promise<TicketStatus>;
  update(ticket: string, outcome: DeploymentOutcome, note: string): Promise<void>;
}

interface HttpResult {
  status: number;
  body: unknown;
}

// Every failure to talk to the ticket system becomes a DomainError that names the connector
// and never the credentials: callers fail closed on it.
async function call(
  connector: string,
  spec: ChangeConnectorSpec,
  creds: TicketCredentials,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  body?: unknown,
): Promise<HttpResult> {
  const url = new URL(path, spec.baseUrl.endsWith('/') ? spec.baseUrl : `${spec.baseUrl}/`);
  const headers: Record<string, string> = { accept: 'application/json' };
  headers.authorization =
    creds.auth === 'basic'
      ? `Basic ${Buffer.from(`${creds.username ?? ''}:${creds.secret}`).toString('base64')}`
      : `Bearer ${creds.secret}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), parseDuration(spec.timeout) ?? 5000);
  const details = { connector, type: spec.type, url: `${url.origin}${url.pathname}` };
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      redirect: 'error',
    });
  } catch (err) {
    throw new DomainError(
      changeErrors.CHANGES_CONNECTOR_UNAVAILABLE,
      `connector ${connector} cannot reach ${url.origin}: ${controller.signal.aborted ? 'timed out' : (err as Error).message}`,
      details,
    );
  } finally {
    clearTimeout(timer);
  }
  if (res.status === 401 || res.status === 403) {
    throw new DomainError(
      changeErrors.CHANGES_CONNECTOR_AUTH_FAILED,
      `connector ${connector}: ${url.origin} answered ${res.status}`,
      { ...details, status: res.status },
    );
  }
  if (res.status >= 500 || res.status === 429) {
    throw new DomainError(
      changeErrors.CHANGES_CONNECTOR_UNAVAILABLE,
      `connector ${connector}: ${url.origin} answered ${res.status}`,
      { ...details, status: res.status },
    );
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new DomainError(
        changeErrors.CHANGES_CONNECTOR_UNAVAILABLE,
        `connector ${connector}: ${url.origin} did not answer JSON`,
        { ...details, status: res.status },
      );
    }
  }
  return { status: res.status, body: parsed };
}

function unexpected(connector: string, what: string, status: number): DomainError {
  return new DomainError(
    changeErrors.CHANGES_CONNECTOR_UNAVAILABLE,
    `connector ${connector}: unexpected answer (${status}) to ${what}`,
    { connector, status },
  );
}

// ServiceNow state values of the change_request table (Change Management state model).
const serviceNowStates: Record<string, string> = {
  '-5': 'new',
  '-4': 'assess',
  '-3': 'authorize',
  '-2': 'scheduled',
  '-1': 'implement',
  '0': 'review',
  '3': 'closed',
  '4': 'canceled',
};
const serviceNowStateValues = Object.fromEntries(
  Object.entries(serviceNowStates).map(([v, n]) => [n, v]),
);

// The Change Management API answers `{ value, display_value }` per field; the Table API plain
// strings. Both are accepted.
function field(record: Record<string, unknown>, name: string): string | null {
  const v = record[name];
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && 'value' in v) {
    const inner = (v as { value: unknown }).value;
    return typeof inner === 'string' ? inner : inner == null ? null : String(inner);
  }
  return null;
}

export class ServiceNowConnector implements TicketConnector {
  constructor(
    private readonly name: string,
    private readonly spec: ChangeConnectorSpec,
    private readonly creds: TicketCredentials,
  ) {}

  private async find(ticket: string): Promise<Record<string, unknown> | undefined> {
    // GET /api/sn_chg_rest/v1/change?sysparm_query=number=CHG…: the Change Management API.
    const q = new URLSearchParams({ sysparm_query: `number=${ticket}`, sysparm_limit: '1' });
    const res = await call(
      this.name,
      this.spec,
      this.creds,
      'GET',
      `api/sn_chg_rest/v1/change?${q}`,
    );
    if (res.status === 404) return undefined;
    const result = (res.body as { result?: unknown } | undefined)?.result;
    if (res.status !== 200 || !Array.isArray(result))
      throw unexpected(this.name, 'a change query', res.status);
    return result.find(
      (r) => r && typeof r === 'object' && field(r as Record<string, unknown>, 'number') === ticket,
    ) as Record<string, unknown> | undefined;
  }

  async check(ticket: string): Promise<TicketStatus> {
    // Change numbers only: nothing that could add encoded-query operators (^, =) to the query.
    if (!/^[A-Za-z]{2,10}\d{1,20}$/.test(ticket))
      return {
        ticket,
        found: false,
        approved: false,
        state: null,
        reason: `${ticket} is not a ServiceNow change number`,
      };
    const record = await this.find(ticket);
    if (!record)
      return {
        ticket,
        found: false,
        approved: false,
        state: null,
        reason: `${ticket} does not exist in ServiceNow`,
      };
    const stateValue = field(record, 'state') ?? '';
    const state = serviceNowStates[stateValue] ?? stateValue.toLowerCase();
    const approval = (field(record, 'approval') ?? '').toLowerCase();
    const accepted = (this.spec.approvedStates ?? ['scheduled', 'implement']).map((s) =>
      s.toLowerCase(),
    );
    const approved = approval === 'approved' && accepted.includes(state);
    return {
      ticket,
      found: true,
      approved,
      state: `${state} (approval: ${approval || 'none'})`,
      reason: approved
        ? `${ticket} is approved and ${state}`
        : approval !== 'approved'
          ? `${ticket} approval is ${approval || 'not requested'} (state ${state}); it must be approved`
          : `${ticket} is ${state}; deployments need one of ${accepted.join(', ')}`,
    };
  }

  async update(ticket: string, outcome: DeploymentOutcome, note: string): Promise<void> {
    const record = await this.find(ticket);
    const sysId = record ? field(record, 'sys_id') : null;
    if (!sysId) throw unexpected(this.name, `an update of ${ticket} (not found)`, 404);
    const body: Record<string, string> = { work_notes: note };
    const target = this.spec.transitions?.[outcome];
    if (target) body.state = serviceNowStateValues[target.toLowerCase()] ?? target;
    // PATCH /api/sn_chg_rest/v1/change/{sys_id}
    const res = await call(
      this.name,
      this.spec,
      this.creds,
      'PATCH',
      `api/sn_chg_rest/v1/change/${encodeURIComponent(sysId)}`,
      body,
    );
    if (res.status !== 200) throw unexpected(this.name, `an update of ${ticket}`, res.status);
  }
}

export class JiraConnector implements TicketConnector {
  constructor(
    private readonly name: string,
    private readonly spec: ChangeConnectorSpec,
    private readonly creds: TicketCredentials,
  ) {}

  async check(ticket: string): Promise<TicketStatus> {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,49}-\d{1,12}$/.test(ticket))
      return {
        ticket,
        found: false,
        approved: false,
        state: null,
        reason: `${ticket} is not a Jira issue key`,
      };
    // GET /rest/api/3/issue/{issueIdOrKey}?fields=status
    const res = await call(
      this.name,
      this.spec,
      this.creds,
      'GET',
      `rest/api/3/issue/${encodeURIComponent(ticket)}?fields=status`,
    );
    if (res.status === 404)
      return {
        ticket,
        found: false,
        approved: false,
        state: null,
        reason: `${ticket} does not exist in Jira`,
      };
    const status = (res.body as { fields?: { status?: { name?: unknown } } } | undefined)?.fields
      ?.status?.name;
    if (res.status !== 200 || typeof status !== 'string')
      throw unexpected(this.name, `issue ${ticket}`, res.status);
    const accepted = this.spec.approvedStates ?? ['Approved'];
    const approved = accepted.some((s) => s.toLowerCase() === status.toLowerCase());
    return {
      ticket,
      found: true,
      approved,
      state: status,
      reason: approved
        ? `${ticket} is ${status}`
        : `${ticket} is ${status}; deployments need one of ${accepted.join(', ')}`,
    };
  }

  async update(ticket: string, outcome: DeploymentOutcome, note: string): Promise<void> {
    const key = encodeURIComponent(ticket);
    // POST /rest/api/3/issue/{key}/comment with an Atlassian Document Format body.
    const comment = await call(
      this.name,
      this.spec,
      this.creds,
      'POST',
      `rest/api/3/issue/${key}/comment`,
      {
        body: {
          type: 'doc',
          version: 1,
          content: [{ type: 'paragraph', content: [{ type: 'text', text: note }] }],
        },
      },
    );
    if (comment.status !== 201 && comment.status !== 200)
      throw unexpected(this.name, `a comment on ${ticket}`, comment.status);
    const wanted = this.spec.transitions?.[outcome];
    if (!wanted) return;
    const list = await call(
      this.name,
      this.spec,
      this.creds,
      'GET',
      `rest/api/3/issue/${key}/transitions`,
    );
    const transitions = (
      list.body as
        { transitions?: { id: string; name: string; to?: { name?: string } }[] } | undefined
    )?.transitions;
    if (list.status !== 200 || !Array.isArray(transitions))
      throw unexpected(this.name, `transitions of ${ticket}`, list.status);
    const match = transitions.find(
      (t) =>
        t.name.toLowerCase() === wanted.toLowerCase() ||
        t.to?.name?.toLowerCase() === wanted.toLowerCase() ||
        t.id === wanted,
    );
    if (!match)
      throw unexpected(this.name, `transition "${wanted}" of ${ticket} (not offered)`, 409);
    const done = await call(
      this.name,
      this.spec,
      this.creds,
      'POST',
      `rest/api/3/issue/${key}/transitions`,
      {
        transition: { id: match.id },
      },
    );
    if (done.status !== 204 && done.status !== 200)
      throw unexpected(this.name, `a transition of ${ticket}`, done.status);
  }
}

export function connectorFor(
  name: string,
  spec: ChangeConnectorSpec,
  creds: TicketCredentials,
): TicketConnector {
  switch (spec.type) {
    case 'servicenow':
      return new ServiceNowConnector(name, spec, creds);
    case 'jira':
      return new JiraConnector(name, spec, creds);
  }
}
