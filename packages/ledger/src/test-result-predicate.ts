// in-toto Test Result predicate v0.1 (github.com/in-toto/attestation,
// spec/predicates/test-result.md) as a Statement v1: `result` PASSED | WARNED | FAILED,
// `configuration` (resource descriptors: here the test report files with their digests),
// an optional `url` of the test run, and the names of the passed, warned and failed tests.
// The subjects are what was tested (for Custody: the artifacts the job built).
import { makeStatement, type InTotoStatement, type InTotoSubject } from './in-toto.ts';
import {
  checkName,
  checkSha256,
  checkSubjects,
  checkUri,
  invalidPredicate,
} from './predicate-checks.ts';

export const TEST_RESULT_V01 = 'https://in-toto.io/attestation/test-result/v0.1';

export type TestResult = 'PASSED' | 'WARNED' | 'FAILED';

/** A resource descriptor of one report file (e.g. a JUnit XML file). */
export interface TestReportDescriptor {
  readonly name: string;
  readonly sha256: string;
  readonly downloadLocation?: string;
  readonly mediaType?: string;
}

export interface TestResultInput {
  readonly subject: readonly InTotoSubject[];
  readonly configuration: readonly TestReportDescriptor[];
  readonly passedTests: readonly string[];
  readonly warnedTests?: readonly string[];
  readonly failedTests: readonly string[];
  /** Where the test run can be looked at (a URL), optional. */
  readonly url?: string;
}

/** FAILED when a test failed, else WARNED when one warned, else PASSED. */
export function testResultOf(input: {
  readonly warnedTests?: readonly string[];
  readonly failedTests: readonly string[];
}): TestResult {
  if (input.failedTests.length > 0) return 'FAILED';
  if ((input.warnedTests ?? []).length > 0) return 'WARNED';
  return 'PASSED';
}

const what = 'test result';

function names(field: string, list: readonly string[] | undefined): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) invalidPredicate(what, `${field} must be a list of names`);
  return list.map((n) => {
    if (typeof n !== 'string') invalidPredicate(what, `${field} must hold strings`);
    return n;
  });
}

export function makeTestResultStatement(input: TestResultInput): InTotoStatement {
  const subject = checkSubjects(what, input.subject);
  if (!Array.isArray(input.configuration))
    invalidPredicate(what, 'configuration must be a list of resource descriptors');
  const configuration = input.configuration.map((c) => {
    checkName(`${what} configuration name`, c.name);
    checkSha256(`${what} configuration ${c.name}`, c.sha256);
    if (c.downloadLocation !== undefined)
      checkUri(`${what} configuration ${c.name} downloadLocation`, c.downloadLocation);
    return {
      name: c.name,
      digest: { sha256: c.sha256 },
      ...(c.downloadLocation !== undefined ? { downloadLocation: c.downloadLocation } : {}),
      ...(c.mediaType !== undefined ? { mediaType: c.mediaType } : {}),
    };
  });
  const passedTests = names('passedTests', input.passedTests);
  const warnedTests = names('warnedTests', input.warnedTests);
  const failedTests = names('failedTests', input.failedTests);
  if (input.url !== undefined) checkUri(`${what} url`, input.url);
  return makeStatement({
    subject,
    predicateType: TEST_RESULT_V01,
    predicate: {
      result: testResultOf({ warnedTests, failedTests }),
      configuration,
      ...(input.url !== undefined ? { url: input.url } : {}),
      passedTests,
      warnedTests,
      failedTests,
    },
  });
}
