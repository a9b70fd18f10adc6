// Masks secret values in log text: the value itself and the forms a step most often prints it
// in (base64 and base64url at each of the three alignments a value can have inside a longer
// base64 text, as GitHub Actions does; hex; URL and form encoding; JSON string escaping;
// reversed), also when line breaks split it, and the pieces of one cut by a chunk boundary.
// What it cannot catch is listed in docs/reference/secrets.md.
//
// A library of its own because the server (stored logs, API output) and the runner (live
// logs, before they leave the machine) must mask exactly alike.

export const maskReplacement = '***';

// Shorter values are not masked at all: masking `ab` would shred every log.
const minValueLength = 3;
// Derived forms shorter than this are dropped (a 3-byte value's shifted base64 is 3 characters).
const minFormLength = 4;
// A piece of a form at either end of a chunk is masked from this length on, and only for forms
// at least `minSplitFormLength` long; shorter pieces would mask ordinary text by chance.
const minPieceLength = 4;
const minSplitFormLength = 6;

const lineBreaks = /[\r\n]/g;

/** Every form of `value` the masker looks for, line breaks removed, longest first. */
export function maskedForms(value: string): string[] {
  if (value.length < minValueLength) return [];
  const bytes = Buffer.from(value, 'utf8');
  const json = JSON.stringify(value).slice(1, -1);
  const derived = [
    ...base64Forms(bytes),
    // Base64 of a JSON document holding the value (registry auths, Kubernetes secrets).
    ...(json !== value ? base64Forms(Buffer.from(json, 'utf8')) : []),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    ...urlForms(value),
    ...jsonForms(value),
    [...value].reverse().join(''),
  ];
  const forms = new Set<string>([value.replace(lineBreaks, '')]);
  for (const line of value.split(/\r?\n/)) if (line.length >= minFormLength) forms.add(line);
  for (const form of derived) {
    const f = form.replace(lineBreaks, '');
    if (f.length >= minFormLength) forms.add(f);
  }
  return [...forms].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
}

// The characters of base64(x + value + y) that depend on `value` alone, for each of the three
// offsets (mod 3) at which the value can start.
function base64Forms(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const text = Buffer.concat([Buffer.alloc(shift), bytes])
      .toString('base64')
      .replace(/=+$/, '');
    const start = Math.ceil((8 * shift) / 6);
    const end = Math.floor((8 * (shift + bytes.length)) / 6);
    const form = text.slice(start, end);
    out.push(form, form.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

function urlForms(value: string): string[] {
  const component = encodeURIComponent(value);
  const form = new URLSearchParams({ v: value }).toString().slice(2);
  const lower = (s: string) => s.replace(/%[0-9A-F]{2}/g, (p) => p.toLowerCase());
  return [component, form, lower(component), lower(form)];
}

function jsonForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const ascii = json.replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return [json, ascii, json.replace(/\//g, '\\/')];
}

export class SecretMasker {
  private readonly forms: string[];

  constructor(values: Iterable<string>) {
    const forms = new Set<string>();
    for (const v of values) for (const f of maskedForms(v)) forms.add(f);
    this.forms = [...forms].sort((a, b) => b.length - a.length);
  }

  get empty(): boolean {
    return this.forms.length === 0;
  }

  /** Masks one chunk of log output (the runner sends whole lines when it can). */
  mask(text: string): string {
    if (this.forms.length === 0 || text.length === 0) return text;
    // Search the text with its line breaks taken out, so a value printed across lines matches;
    // `at` maps each searched character back to its place in the text.
    const at: number[] = [];
    for (let i = 0; i < text.length; i++) if (text[i] !== '\n' && text[i] !== '\r') at.push(i);
    const flat = at.length === text.length ? text : text.replace(lineBreaks, '');
    const hidden = new Uint8Array(text.length);
    const hide = (from: number, to: number) => {
      for (let i = from; i < to; i++) hidden[at[i]!] = 1;
    };
    let any = false;
    for (const form of this.forms) {
      for (let i = flat.indexOf(form); i !== -1; i = flat.indexOf(form, i + 1)) {
        hide(i, i + form.length);
        any = true;
      }
      if (form.length < minSplitFormLength) continue;
      const edge = this.edges(flat, form);
      if (edge.head > 0) hide(0, edge.head);
      if (edge.tail > 0) hide(flat.length - edge.tail, flat.length);
      any ||= edge.head > 0 || edge.tail > 0;
    }
    return any ? rebuild(text, hidden) : text;
  }

  // The longest start of the chunk that ends the form, and the longest end that starts it: the
  // two pieces of a value a chunk boundary cut (the whole chunk, when it lies inside the form).
  private edges(flat: string, form: string): { head: number; tail: number } {
    if (flat.length < form.length && flat.length >= minPieceLength && form.includes(flat))
      return { head: flat.length, tail: 0 };
    const head = overlap(reverse(form), reverse(flat.slice(0, form.length - 1)));
    const tail = overlap(form, flat.slice(-(form.length - 1)));
    return {
      head: head >= minPieceLength ? head : 0,
      tail: tail >= minPieceLength ? tail : 0,
    };
  }
}

// The length of the longest end of `text` that is a proper start of `form` (the KMP prefix
// function over form + separator + text, linear in their lengths).
function overlap(form: string, text: string): number {
  const s = `${form}\u0000${text}`;
  const pi = new Int32Array(s.length);
  for (let i = 1; i < s.length; i++) {
    let k = pi[i - 1]!;
    while (k > 0 && s[i] !== s[k]) k = pi[k - 1]!;
    if (s[i] === s[k]) k++;
    pi[i] = k;
  }
  return Math.min(pi[s.length - 1] ?? 0, form.length - 1, text.length);
}

function reverse(s: string): string {
  return [...s].reverse().join('');
}

// Each run of hidden characters becomes one `***`; line breaks stay where they were.
function rebuild(text: string, hidden: Uint8Array): string {
  let out = '';
  let inRun = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n' || c === '\r') {
      out += c;
      inRun = false;
    } else if (hidden[i]) {
      if (!inRun) out += maskReplacement;
      inRun = true;
    } else {
      out += c;
      inRun = false;
    }
  }
  return out;
}

export function createMasker(values: Iterable<string>): (text: string) => string {
  const masker = new SecretMasker(values);
  return (text) => masker.mask(text);
}
