// Text from a run (a step's output, a message quoting a title or a ticket) reaches a person's
// terminal. Escape sequences other than colours could move the cursor and rewrite what the
// CLI printed before — an approval hint, a gate reason — so they are dropped.

// Any escape sequence: CSI (ESC [ … final byte), OSC (ESC ] … BEL or ESC \), or a two-byte one.
// eslint-disable-next-line no-control-regex -- matching terminal controls is the point
const escapes = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_]?)/g;
// eslint-disable-next-line no-control-regex -- matching terminal controls is the point
const colour = /^\u001b\[[\d;]*m$/;
// C0 controls but tab, line feed, carriage return and escape (handled above); DEL; C1.
// eslint-disable-next-line no-control-regex -- matching terminal controls is the point
const controls = /[\u0000-\u0008\u000b\u000c\u000e-\u001a\u001c-\u001f\u007f-\u009f]/g;

// Log output: keeps line breaks, tabs, carriage returns (progress bars) and colours (SGR).
export function logText(s: string): string {
  return s.replace(escapes, (seq) => (colour.test(seq) ? seq : '')).replace(controls, '');
}

// A line the CLI prints itself (a transition, a gate reason): no escapes, no controls.
export function lineText(s: string): string {
  return s
    .replace(escapes, '')
    .replace(/[\t\r\n]/g, ' ')
    .replace(controls, '');
}
