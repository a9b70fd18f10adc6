import { isIPv6 } from 'node:net';

// The key under which limits and denied-attempt summaries count a client address. IPv4 (also
// written IPv4-mapped, `::ffff:1.2.3.4`) counts per address; IPv6 per /64, because one host
// usually holds a whole /64 and could otherwise rotate through 2^64 addresses.
export function addressKey(ip: string | null | undefined): string {
  if (!ip) return 'none';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  return `${expandIPv6(ip).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(ip: string): string[] {
  const [head = '', tail] = ip.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((h) =>
    h.includes('.') ? h : parseInt(h || '0', 16).toString(16),
  );
}
