import { describe, expect, it } from 'vitest';
import { fromJS } from '../value.ts';
import { renderTemplate } from './go-template.ts';
import { evalError, evalExpr } from './test-eval.ts';

const render = (tpl: string, vars: unknown): string => renderTemplate(tpl, fromJS(vars));

describe('strings.render_template', () => {
  it('ranges with index and value variables and Go truthiness', () => {
    expect(
      render('{{range $i, $n := .names}}{{if $i}},{{end}}hi {{$n}}{{end}}', {
        names: ['a', 'b c'],
      }),
    ).toBe('hi a,hi b c');
    expect(render('{{range .xs}}[{{.}}]{{else}}none{{end}}', { xs: [] })).toBe('none');
    expect(render('{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}', { m: { b: 2, a: 1 } })).toBe(
      'a=1;b=2;',
    );
  });
  it('supports else if, with, variables, pipelines and functions', () => {
    const t = '{{if eq .n 1}}one{{else if gt .n 1}}many{{else}}none{{end}}';
    expect(render(t, { n: 3 })).toBe('many');
    expect(render(t, { n: 0 })).toBe('none');
    expect(
      render('{{with .u}}{{.name}}{{end}}|{{with .v}}x{{else}}y{{end}}', { u: { name: 'n' } }),
    ).toBe('n|y');
    expect(render('{{$x := len .s}}{{$x}} {{.s | printf "%s!"}}', { s: 'abc' })).toBe('3 abc!');
    expect(
      render('{{index .a 1}} {{and .t .f}} {{or .f "z"}}', { a: [1, 2], t: true, f: false }),
    ).toBe('2 false z');
  });
  it('trims around {{- and -}} and skips comments', () => {
    expect(render('a  {{- /* c */ -}}  b {{- .x }}', { x: 1 })).toBe('ab1');
  });
  it('prints missing keys as <undefined> and values the way Go does', () => {
    expect(
      evalExpr(
        'strings.render_template("{{.a}} {{.b}} {{.c}}", {"b": [1, "x"], "c": {"k": null}})',
      ),
    ).toBe('<undefined> [1 x] map[k:<nil>]');
    expect(evalError('strings.render_template("{{if .a}}", {})')).toContain('unexpected EOF');
  });
});
