import { EvidenceError } from './evidence-error.ts';
import { fingerprintOfLocation, fingerprintOfPartials, normalizePath } from './fingerprint.ts';
import type {
  Finding,
  FindingLocation,
  ParsedReport,
  SarifFigures,
  SarifLevel,
} from './report-types.ts';
import type { ReportSource } from './report-text.ts';
import { arrayOf, isObject, stringOf, type Json } from './safe-json.ts';
import { sarifValidator } from './sarif-schema.ts';
import { parseScore, severityOfLevel, severityOfScore } from './severity.ts';

const levels = new Set<SarifLevel>(['error', 'warning', 'note', 'none']);

// SARIF 2.1.0, validated against the OASIS schema before anything is read from it.
export function parseSarif(doc: unknown, src: ReportSource): ParsedReport {
  const at = { ...src, format: 'sarif' };
  if (!isObject(doc) || !Array.isArray(doc.runs)) {
    throw new EvidenceError('EVIDENCE_WRONG_FORMAT', 'this is not a SARIF log (no "runs" array)', {
      ...at,
      pointer: '',
    });
  }
  if (doc.version !== '2.1.0') {
    throw new EvidenceError(
      'EVIDENCE_SARIF_VERSION',
      `version is ${JSON.stringify(doc.version)}; only "2.1.0" is accepted`,
      { ...at, pointer: '/version' },
    );
  }
  const validate = sarifValidator();
  if (!validate(doc)) {
    const e = validate.errors![0]!;
    throw new EvidenceError(
      'EVIDENCE_SCHEMA_INVALID',
      `the SARIF 2.1.0 schema refuses it: ${e.message ?? e.keyword}`,
      {
        ...at,
        pointer: e.instancePath,
      },
    );
  }
  const figures: SarifFigures = {
    version: '2.1.0',
    runs: doc.runs.length,
    results: 0,
    levels: { error: 0, warning: 0, note: 0, none: 0 },
    rules: 0,
    suppressed: 0,
    baseline: {},
    tools: [],
  };
  const ruleIds = new Set<string>();
  const findings: Finding[] = [];
  for (const run of doc.runs as Json[]) {
    const tool = new RunTool(run);
    if (!figures.tools.includes(tool.name)) figures.tools.push(tool.name);
    for (const result of arrayOf(run.results) as Json[]) {
      const f = findingOf(result, tool);
      figures.results++;
      figures.levels[f.level!]++;
      const id =
        stringOf(result.ruleId) ?? (isObject(result.rule) ? stringOf(result.rule.id) : undefined);
      if (id !== undefined) ruleIds.add(id);
      if (f.suppressed) figures.suppressed++;
      if (f.baselineState)
        figures.baseline[f.baselineState] = (figures.baseline[f.baselineState] ?? 0) + 1;
      findings.push(f);
    }
  }
  figures.rules = ruleIds.size;
  return { format: 'sarif', file: src.file, figures, findings };
}

// A run's driver and extensions, with their rules indexed for the lookups results make.
class RunTool {
  readonly name: string;
  private readonly components: Json[];

  constructor(run: Json) {
    const tool = isObject(run.tool) ? run.tool : {};
    const driver = isObject(tool.driver) ? tool.driver : {};
    this.name = stringOf(driver.name) ?? 'unknown';
    this.components = [driver, ...(arrayOf(tool.extensions).filter(isObject) as Json[])];
  }

  // §3.27.7: by index (into the named tool component's rules, else the driver's), then by
  // the first rule whose id equals ruleId.
  rule(result: Json, ruleId: string | undefined): Json | undefined {
    const ref = isObject(result.rule) ? result.rule : {};
    const index = typeof ref.index === 'number' ? ref.index : result.ruleIndex;
    const component = this.componentOf(ref.toolComponent);
    if (typeof index === 'number' && index >= 0) {
      const r = arrayOf(component.rules)[index];
      if (isObject(r)) return r;
    }
    if (ruleId === undefined) return undefined;
    for (const c of [component, ...this.components]) {
      const r = arrayOf(c.rules).find((x) => isObject(x) && x.id === ruleId);
      if (isObject(r)) return r;
    }
    return undefined;
  }

  private componentOf(ref: unknown): Json {
    if (!isObject(ref)) return this.components[0]!;
    if (typeof ref.index === 'number')
      return (arrayOf(this.components.slice(1))[ref.index] as Json) ?? {};
    const byName = this.components.find(
      (c) => (ref.guid && c.guid === ref.guid) || (ref.name && c.name === ref.name),
    );
    return byName ?? this.components[0]!;
  }
}

function findingOf(result: Json, tool: RunTool): Finding {
  const explicitId =
    stringOf(result.ruleId) ?? (isObject(result.rule) ? stringOf(result.rule.id) : undefined);
  const rule = tool.rule(result, explicitId);
  const ruleId = explicitId ?? stringOf(rule?.id) ?? 'unknown';
  const level = levelOf(result, rule);
  const score =
    parseScore(props(result)['security-severity']) ?? parseScore(props(rule)['security-severity']);
  const location = locationOf(result);
  const partials = isObject(result.partialFingerprints)
    ? stringMap(result.partialFingerprints)
    : {};
  const f: Finding = {
    tool: tool.name,
    ruleId,
    message: messageOf(result, rule),
    severity: score !== undefined ? severityOfScore(score) : severityOfLevel(level),
    level,
    fingerprint:
      Object.keys(partials).length > 0
        ? fingerprintOfPartials(ruleId, partials)
        : fingerprintOfLocation(ruleId, location, snippetOf(result)),
    suppressed: suppressed(result),
  };
  if (location) f.location = location;
  const baseline = stringOf(result.baselineState);
  if (baseline) f.baselineState = baseline;
  return f;
}

// §3.27.10: the result's level; else `none` when its kind is not `fail`; else the rule's
// defaultConfiguration.level; else `warning`.
function levelOf(result: Json, rule: Json | undefined): SarifLevel {
  if (levels.has(result.level as SarifLevel)) return result.level as SarifLevel;
  if (result.kind !== undefined && result.kind !== 'fail') return 'none';
  const configured = isObject(rule?.defaultConfiguration)
    ? rule.defaultConfiguration.level
    : undefined;
  return levels.has(configured as SarifLevel) ? (configured as SarifLevel) : 'warning';
}

// Suppressed when any suppression is accepted (or has no status, which means accepted).
function suppressed(result: Json): boolean {
  return arrayOf(result.suppressions).some(
    (s) => isObject(s) && (s.status === undefined || s.status === 'accepted'),
  );
}

function locationOf(result: Json): FindingLocation | undefined {
  const loc = arrayOf(result.locations).find(isObject) as Json | undefined;
  const physical = isObject(loc?.physicalLocation) ? loc.physicalLocation : undefined;
  if (!physical) return undefined;
  const out: FindingLocation = {};
  const artifact = isObject(physical.artifactLocation) ? physical.artifactLocation : {};
  const uri = stringOf(artifact.uri);
  if (uri) out.path = normalizePath(uri);
  const region = isObject(physical.region) ? physical.region : {};
  if (typeof region.startLine === 'number') out.startLine = region.startLine;
  if (typeof region.startColumn === 'number') out.startColumn = region.startColumn;
  if (typeof region.endLine === 'number') out.endLine = region.endLine;
  return Object.keys(out).length > 0 ? out : undefined;
}

function snippetOf(result: Json): string | undefined {
  const loc = arrayOf(result.locations).find(isObject) as Json | undefined;
  const physical = isObject(loc?.physicalLocation) ? loc.physicalLocation : {};
  const region = isObject(physical.region) ? physical.region : {};
  const snippet = isObject(region.snippet) ? region.snippet : {};
  return stringOf(snippet.text);
}

function messageOf(result: Json, rule: Json | undefined): string {
  const m = isObject(result.message) ? result.message : {};
  const text = stringOf(m.text) ?? stringOf(m.markdown);
  if (text) return text;
  const id = stringOf(m.id);
  const templates = isObject(rule?.messageStrings) ? rule.messageStrings : {};
  const template =
    id && isObject(templates[id]) ? stringOf((templates[id] as Json).text) : undefined;
  return (
    template ??
    (isObject(rule?.shortDescription) ? (stringOf(rule.shortDescription.text) ?? '') : '')
  );
}

const props = (o: Json | undefined): Json => (isObject(o?.properties) ? o.properties : {});

function stringMap(o: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'string') out[k] = v;
  return out;
}
