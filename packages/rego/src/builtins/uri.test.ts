import { describe, expect, it } from 'vitest';
import { evalError, evalExpr } from './test-eval.ts';
import { parseURL } from './uri.ts';

describe('uri.parse', () => {
  it('splits a full URL and leaves out missing parts', () => {
    expect(evalExpr('uri.parse("HTTPS://example.com:8080/a%2Fb?q=1#top")')).toEqual({
      scheme: 'https',
      hostname: 'example.com',
      port: '8080',
      path: '/a/b',
      raw_path: '/a%2Fb',
      raw_query: 'q=1',
      fragment: 'top',
    });
    expect(evalExpr('uri.parse("")')).toEqual({});
    expect(evalExpr('uri.parse("mailto:a@b.c")')).toEqual({ scheme: 'mailto' });
  });
  it('unbrackets IPv6 hosts and re-escapes paths Go would escape', () => {
    expect(parseURL('http://[::1]:80/x').host).toBe('::1');
    expect(parseURL('http://h/a b').rawPath).toBe('/a%20b');
  });
  it('rejects bad ports and escapes like Go', () => {
    expect(evalError('uri.parse("http://h:8x/")')).toContain('invalid port ":8x" after host');
    expect(evalError('uri.parse("http://h/%zz")')).toContain('invalid URL escape');
    expect(evalError('uri.parse("a:b/c")')).toBe('');
    expect(evalError('uri.parse("1a:b")')).toContain(
      'first path segment in URL cannot contain colon',
    );
  });
});
