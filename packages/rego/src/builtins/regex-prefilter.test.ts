import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { mayMatch, requiredLiterals } from './regex-prefilter.ts';

describe('regex prefilter', () => {
  it('finds the literals a pattern cannot match without', () => {
    // Single literals first (longer before shorter), alternatives last: the cheapest reject.
    expect(requiredLiterals('(curl|wget)[^|]*\\|\\s*(ba|z)?sh\\b')).toEqual([
      ['sh'],
      ['|'],
      ['curl', 'wget'],
    ]);
    expect(requiredLiterals('^release/v[0-9]+\\.x$')).toEqual([['release/v'], ['.x']]);
    expect(requiredLiterals('ab+c')).toEqual([['ab'], ['c']]);
    expect(requiredLiterals('abc?d')).toEqual([['ab'], ['d']]);
    expect(requiredLiterals('x{0,3}yz{2}')).toEqual([['yz']]);
  });

  it('gives up where it cannot be sure', () => {
    expect(requiredLiterals('a|b')).toBeNull();
    expect(requiredLiterals('(?i)curl')).toBeNull();
    expect(requiredLiterals('(?i:curl)x')).toBeNull();
    expect(requiredLiterals('\\Qa.b\\E')).toBeNull();
    expect(requiredLiterals('(a')).toBeNull();
  });

  it('never rejects a string RE2 would match', () => {
    const patterns = [
      '(curl|wget)[^|]*\\|\\s*(ba|z)?sh\\b',
      'a(b|c)+d',
      '(?:foo|)bar',
      'x(y(z|w))?q',
      'abc?d+e*f{1}g{0}h{1,}',
      '[]a]bc',
      '[^]x]yz',
      'a\\.b\\d\\+',
      'a{,2}b',
      '(?P<n>ab|cd)ef',
      '^$',
      'tést|x',
      '[[:alpha:]]+42',
    ];
    const strings = [
      '',
      'curl x | sh',
      'wget|bash',
      'abd',
      'acccd',
      'bar',
      'foobar',
      'xq',
      'xyzq',
      'xywq',
      'abdef',
      'abcdddfgh',
      'abddefggh',
      ']bc',
      'ayz',
      'a.b1+',
      'a{,2}b',
      'abef',
      'cdef',
      'tést',
      'hello42',
      'ab',
    ];
    for (const p of patterns) {
      const re = RE2JS.compile(p);
      const required = requiredLiterals(p);
      for (const s of strings)
        if (re.test(s))
          expect(required === null || mayMatch(required, s), `${p} on ${s}`).toBe(true);
    }
  });
});
