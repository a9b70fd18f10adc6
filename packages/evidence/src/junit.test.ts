import { describe, expect, it } from 'vitest';
import type { ParsedReport } from './index.ts';
import { parse } from './test-support.ts';

const junit = (text: string) => {
  const r: ParsedReport = parse(text, 'junit');
  if (r.format !== 'junit') throw new Error(r.format);
  return r;
};

// Each dialect in the shape its tool writes (element and attribute names, nesting, where the
// message sits); the real files of Surefire, go-junit-report, jest-junit and Bazel are in
// corpus.test.ts.
describe('JUnit dialects', () => {
  it('pytest: one <testsuite name="pytest"> under <testsuites>; failure text, skipped message', () => {
    const r = junit(`<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">
<testsuite name="pytest" errors="0" failures="1" skipped="1" tests="3" time="0.052" timestamp="2026-11-30T10:00:00" hostname="ci">
<testcase classname="tests.test_cart" name="test_total" time="0.001" />
<testcase classname="tests.test_cart" name="test_tax" time="0.003"><failure message="assert 7 == 8">def test_tax():
&gt;       assert tax(10) == 8
E       assert 7 == 8</failure></testcase>
<testcase classname="tests.test_cart" name="test_slow" time="0.000"><skipped type="pytest.skip" message="slow">tests/test_cart.py:20: slow</skipped></testcase>
</testsuite></testsuites>`);
    expect(r.figures).toMatchObject({ tests: 3, passed: 1, failures: 1, errors: 0, skipped: 1 });
    expect(r.cases[1]).toMatchObject({
      name: 'test_tax',
      className: 'tests.test_cart',
      suite: 'pytest',
      outcome: 'failed',
      message: 'assert 7 == 8',
      durationMs: 3,
    });
    expect(r.cases[2]!.message).toBe('slow');
  });

  it('Gradle: a bare <testsuite> root with <properties/>, CDATA system-out and system-err', () => {
    const r = junit(`<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.acme.OrderTest" tests="2" skipped="0" failures="1" errors="0" timestamp="2026-11-30T10:00:00" hostname="ci" time="0.21">
  <properties/>
  <testcase name="rejectsEmpty()" classname="com.acme.OrderTest" time="0.012"/>
  <testcase name="sums()" classname="com.acme.OrderTest" time="0.2">
    <failure message="org.opentest4j.AssertionFailedError: expected: &lt;3&gt; but was: &lt;2&gt;" type="org.opentest4j.AssertionFailedError">org.opentest4j.AssertionFailedError: expected: &lt;3&gt; but was: &lt;2&gt;
	at com.acme.OrderTest.sums(OrderTest.java:14)</failure>
  </testcase>
  <system-out><![CDATA[starting <not a tag>]]></system-out>
  <system-err><![CDATA[]]></system-err>
</testsuite>`);
    expect(r.figures).toMatchObject({ tests: 2, failures: 1, suites: 1 });
    expect(r.cases[1]!.message).toBe(
      'org.opentest4j.AssertionFailedError: expected: <3> but was: <2>',
    );
  });

  it('gotestsum / go-junit-report: <property name="go.version">, failure message "Failed" with the output as text', () => {
    const r = junit(`<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="1" errors="0" time="0.010">
	<testsuite tests="3" failures="1" time="0.010" name="example.com/shop/cart" timestamp="2026-11-30T10:00:00Z">
		<properties><property name="go.version" value="go1.23.2 linux/amd64"></property></properties>
		<testcase classname="example.com/shop/cart" name="TestAdd" time="0.000"></testcase>
		<testcase classname="example.com/shop/cart" name="TestAdd/negative" time="0.000"><failure message="Failed" type="">=== RUN   TestAdd/negative
    cart_test.go:21: got -1</failure></testcase>
		<testcase classname="example.com/shop/cart" name="TestRemote" time="0.000"><skipped message="=== RUN   TestRemote&#xA;    cart_test.go:30: no network&#xA;"></skipped></testcase>
	</testsuite>
</testsuites>`);
    expect(r.figures).toMatchObject({ tests: 3, passed: 1, failures: 1, skipped: 1 });
    expect(r.cases[1]).toMatchObject({ name: 'TestAdd/negative', message: 'Failed' });
    expect(r.cases[2]!.message).toContain('no network');
  });

  it('.NET (JunitXml.TestLogger): method names carry the class; error vs failure', () => {
    const r = junit(`<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="Shop.Tests.dll" tests="3" skipped="0" failures="1" errors="1" time="0.31" timestamp="2026-11-30T10:00:00" hostname="ci" id="0" package="Shop.Tests.dll">
    <properties />
    <testcase classname="Shop.Tests.CartTests" name="Shop.Tests.CartTests.Adds" time="0.01" />
    <testcase classname="Shop.Tests.CartTests" name="Shop.Tests.CartTests.Taxes" time="0.02">
      <failure type="failure" message="Assert.Equal() Failure: Values differ">   at Shop.Tests.CartTests.Taxes() in /src/CartTests.cs:line 19</failure>
    </testcase>
    <testcase classname="Shop.Tests.CartTests" name="Shop.Tests.CartTests.Loads" time="0.28">
      <error type="System.IO.IOException" message="disk full" />
    </testcase>
    <system-out>Data collector 'XPlat code coverage' message.</system-out>
    <system-err></system-err>
  </testsuite>
</testsuites>`);
    expect(r.figures).toMatchObject({ tests: 3, failures: 1, errors: 1 });
    expect(r.cases.map((c) => c.outcome)).toEqual(['passed', 'failed', 'error']);
  });

  it('Surefire reruns: flakyFailure passed on a rerun; rerunFailure beside a failure stays failed', () => {
    const r =
      junit(`<testsuite name="com.acme.NetTest" tests="2" failures="1" errors="0" skipped="0" flakes="1">
  <testcase name="connects" classname="com.acme.NetTest" time="0.5">
    <flakyFailure message="timeout" type="java.net.SocketTimeoutException"><stackTrace>at …</stackTrace><system-out>try 1</system-out></flakyFailure>
  </testcase>
  <testcase name="resolves" classname="com.acme.NetTest" time="0.1">
    <failure message="no host" type="java.net.UnknownHostException">at …</failure>
    <rerunFailure message="no host" type="java.net.UnknownHostException"><stackTrace>at …</stackTrace></rerunFailure>
  </testcase>
</testsuite>`);
    expect(r.figures).toMatchObject({ tests: 2, passed: 1, failures: 1, flaky: 1 });
    expect(r.cases[0]).toMatchObject({ outcome: 'passed', flaky: true });
    expect(r.cases[1]).toMatchObject({ outcome: 'failed', flaky: false, message: 'no host' });
  });

  it('jest-junit: the file attribute; an <error> outranks a <failure> in the same case', () => {
    const r = junit(`<testsuites name="jest tests" tests="1" failures="1" errors="0" time="1.2">
  <testsuite name="cart" errors="0" failures="1" skipped="0" timestamp="2026-11-30T10:00:00" time="1.2" tests="1">
    <testcase classname="cart adds" name="cart adds" time="0.004" file="src/cart.test.ts">
      <failure>Error: expect(received).toBe(expected)</failure>
      <error message="TypeError: x is undefined"/>
    </testcase>
  </testsuite>
</testsuites>`);
    expect(r.cases[0]).toMatchObject({
      file: 'src/cart.test.ts',
      outcome: 'error',
      message: 'TypeError: x is undefined',
    });
  });

  it('counts the <testcase> elements of nested suites, not the suites\u2019 attributes', () => {
    const r = junit(`<testsuites tests="99" failures="0">
  <testsuite name="outer" tests="50"><testsuite name="inner" tests="40">
    <testcase name="a"/><testcase name="b"><failure/></testcase>
  </testsuite><testcase name="c"><skipped/></testcase></testsuite>
</testsuites>`);
    expect(r.figures).toMatchObject({ tests: 3, failures: 1, skipped: 1, suites: 2 });
    expect(r.cases.map((c) => c.suite)).toEqual(['inner', 'inner', 'outer']);
  });

  it('reads UTF-16 with a byte-order mark and ISO-8859-1 when declared', async () => {
    const { parseReport } = await import('./index.ts');
    const text = '<testsuite name="s"><testcase name="caf\u00e9"/></testsuite>';
    const utf16 = new Uint8Array([0xff, 0xfe, ...new Uint8Array(Buffer.from(text, 'utf16le'))]);
    const r1 = parseReport({ bytes: utf16, fileName: 'u16.xml', format: 'junit' });
    expect(r1.format === 'junit' && r1.cases[0]!.name).toBe('caf\u00e9');
    const latin = Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?>${text}`, 'latin1');
    const r2 = parseReport({ bytes: latin, fileName: 'l1.xml', format: 'junit' });
    expect(r2.format === 'junit' && r2.cases[0]!.name).toBe('caf\u00e9');
  });
});
