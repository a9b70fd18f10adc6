import { describe, expect, it } from 'vitest';
import { LedgerError } from './errors.ts';
import { IN_TOTO_STATEMENT_TYPE, statementBytes } from './in-toto.ts';
import { CYCLONEDX_BOM, makeSbomStatement, SPDX_DOCUMENT } from './sbom-predicate.ts';
import {
  CUSTODY_PIPELINE_BUILD_TYPE,
  makeSlsaProvenance,
  SLSA_PROVENANCE_V1,
  type SlsaProvenanceInput,
} from './slsa-provenance.ts';
import { makeTestResultStatement, TEST_RESULT_V01 } from './test-result-predicate.ts';

const digestA = 'a'.repeat(64);
const digestB = 'b'.repeat(64);
const subject = [
  { name: 'dist/app.tar.gz', digest: { sha256: digestA } },
  { name: 'dist/app.sig', digest: { sha256: digestB } },
];

const input: SlsaProvenanceInput = {
  subject,
  builderId: 'https://ci.example.com/runners',
  repository: 'https://git.example.com/shop/web.git',
  ref: 'refs/heads/main',
  commit: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
  pipeline: { project: 'shop', name: 'build', version: 3, contentHash: 'sha256:ab12' },
  inputs: { target: 'linux' },
  stage: 'build',
  job: 'job_1',
  runId: 'run_1',
  startedOn: '2026-12-01T10:00:00.000Z',
  finishedOn: '2026-12-01T10:05:00Z',
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof LedgerError ? err.code : String(err);
  }
  return undefined;
}

describe('SLSA provenance v1', () => {
  it('follows the v1.0 schema: buildDefinition, runDetails, resolved source', () => {
    const s = makeSlsaProvenance(input);
    expect(s).toEqual({
      _type: IN_TOTO_STATEMENT_TYPE,
      subject,
      predicateType: SLSA_PROVENANCE_V1,
      predicate: {
        buildDefinition: {
          buildType: CUSTODY_PIPELINE_BUILD_TYPE,
          externalParameters: {
            repository: 'https://git.example.com/shop/web.git',
            ref: 'refs/heads/main',
            commit: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d',
            pipeline: { project: 'shop', name: 'build', version: 3, contentHash: 'sha256:ab12' },
            inputs: { target: 'linux' },
          },
          internalParameters: { stage: 'build', job: 'job_1' },
          resolvedDependencies: [
            {
              uri: 'git+https://git.example.com/shop/web.git@refs/heads/main',
              digest: { gitCommit: '7fd1a60b01f91b314f59955a4e4d4e80d8edf11d' },
            },
          ],
        },
        runDetails: {
          builder: { id: 'https://ci.example.com/runners' },
          metadata: {
            invocationId: 'run_1',
            startedOn: '2026-12-01T10:00:00.000Z',
            finishedOn: '2026-12-01T10:05:00Z',
          },
        },
      },
    });
    // Deterministic bytes: the same input signs the same payload.
    expect(statementBytes(s)).toEqual(statementBytes(makeSlsaProvenance(input)));
  });

  it('leaves out what a run does not have (no repository, no commit)', () => {
    const s = makeSlsaProvenance({ ...input, repository: null, commit: null });
    const def = (s.predicate as { buildDefinition: Record<string, unknown> }).buildDefinition;
    expect(def.externalParameters).not.toHaveProperty('repository');
    expect(def.externalParameters).not.toHaveProperty('commit');
    expect(def.resolvedDependencies).toEqual([]);
    const noCommit = makeSlsaProvenance({ ...input, commit: null });
    expect(
      (noCommit.predicate as { buildDefinition: { resolvedDependencies: unknown[] } })
        .buildDefinition.resolvedDependencies,
    ).toEqual([{ uri: 'git+https://git.example.com/shop/web.git@refs/heads/main' }]);
    // An abbreviated commit is a parameter, never a digest.
    const short = makeSlsaProvenance({ ...input, commit: '7fd1a60' });
    const shortDef = (short.predicate as { buildDefinition: Record<string, unknown> })
      .buildDefinition;
    expect(shortDef.externalParameters).toMatchObject({ commit: '7fd1a60' });
    expect(shortDef.resolvedDependencies).toEqual([
      { uri: 'git+https://git.example.com/shop/web.git@refs/heads/main' },
    ]);
  });

  it.each([
    ['no subject', { subject: [] }],
    ['a subject without sha256', { subject: [{ name: 'x', digest: { sha1: 'ab' } }] }],
    ['an uppercase digest', { subject: [{ name: 'x', digest: { sha256: 'A'.repeat(64) } }] }],
    ['a duplicate subject name', { subject: [subject[0]!, subject[0]!] }],
    ['a local-time timestamp', { startedOn: '2026-12-01T10:00:00+01:00' }],
    ['a date only', { finishedOn: '2026-12-01' }],
    ['finished before started', { finishedOn: '2026-12-01T09:00:00Z' }],
    ['a builder id that is no URI', { builderId: 'runners' }],
    ['a commit that is not hex', { commit: 'main' }],
    ['version 0', { pipeline: { ...input.pipeline, version: 0 } }],
  ])('refuses %s with LEDGER_PREDICATE_INVALID', (_name, change) => {
    expect(codeOf(() => makeSlsaProvenance({ ...input, ...change } as SlsaProvenanceInput))).toBe(
      'LEDGER_PREDICATE_INVALID',
    );
  });
});

describe('test result predicate v0.1', () => {
  const reports = [{ name: 'reports/junit.xml', sha256: digestB }];

  it('PASSED with the report files as configuration', () => {
    const s = makeTestResultStatement({
      subject,
      configuration: reports,
      passedTests: ['suite.a', 'suite.b'],
      failedTests: [],
      url: 'https://ci.example.com/api/v1/runs/run_1',
    });
    expect(s.predicateType).toBe(TEST_RESULT_V01);
    expect(s.predicate).toEqual({
      result: 'PASSED',
      configuration: [{ name: 'reports/junit.xml', digest: { sha256: digestB } }],
      url: 'https://ci.example.com/api/v1/runs/run_1',
      passedTests: ['suite.a', 'suite.b'],
      warnedTests: [],
      failedTests: [],
    });
  });

  it('WARNED when tests warned and none failed, FAILED when one failed', () => {
    const base = { subject, configuration: reports, passedTests: ['a'] };
    expect(
      makeTestResultStatement({ ...base, warnedTests: ['w'], failedTests: [] }).predicate.result,
    ).toBe('WARNED');
    expect(
      makeTestResultStatement({ ...base, warnedTests: ['w'], failedTests: ['f'] }).predicate.result,
    ).toBe('FAILED');
  });

  it('refuses a report without a sha256', () => {
    expect(
      codeOf(() =>
        makeTestResultStatement({
          subject,
          configuration: [{ name: 'r.xml', sha256: 'nope' }],
          passedTests: [],
          failedTests: [],
        }),
      ),
    ).toBe('LEDGER_PREDICATE_INVALID');
  });
});

describe('SBOM predicates', () => {
  const bom = {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    components: [{ type: 'library', name: 'left-pad', version: '1.3.0' }],
  };

  it('CycloneDX JSON: the BOM is the predicate', () => {
    const s = makeSbomStatement({
      subject,
      format: 'cyclonedx',
      encoding: 'json',
      sha256: digestB,
      specVersion: '1.5',
      components: 1,
      document: bom,
    });
    expect(s.predicateType).toBe(CYCLONEDX_BOM);
    expect(s.predicate).toEqual(bom);
  });

  it('SPDX JSON: the document is the predicate', () => {
    const doc = { spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', packages: [] };
    const s = makeSbomStatement({
      subject,
      format: 'spdx',
      encoding: 'json',
      sha256: digestB,
      specVersion: 'SPDX-2.3',
      components: 0,
      document: doc,
    });
    expect(s.predicateType).toBe(SPDX_DOCUMENT);
    expect(s.predicate).toEqual(doc);
  });

  it('CycloneDX XML (and JSON without its document): attested by reference', () => {
    const xml = makeSbomStatement({
      subject,
      format: 'cyclonedx',
      encoding: 'xml',
      sha256: digestB,
      specVersion: '1.4',
      components: 12,
    });
    expect(xml.predicateType).toBe(CYCLONEDX_BOM);
    expect(xml.predicate).toEqual({
      mediaType: 'application/vnd.cyclonedx+xml',
      digest: { sha256: digestB },
      specVersion: '1.4',
      components: 12,
    });
    const json = makeSbomStatement({
      subject,
      format: 'cyclonedx',
      encoding: 'json',
      sha256: digestB,
      specVersion: '1.5',
      components: 1,
    });
    expect(json.predicate).toMatchObject({ mediaType: 'application/vnd.cyclonedx+json' });
  });

  it('refuses a JSON document that is not an object', () => {
    expect(
      codeOf(() =>
        makeSbomStatement({
          subject,
          format: 'cyclonedx',
          encoding: 'json',
          sha256: digestB,
          specVersion: '1.5',
          components: 0,
          document: [1, 2],
        }),
      ),
    ).toBe('LEDGER_PREDICATE_INVALID');
  });
});
