import { DomainError } from '../../platform/errors.ts';
import { identityErrors } from './errors.ts';

// A user's verified identity in another system. Values are compared case-insensitively as
// whole strings (e-mail providers and GitHub/GitLab treat them so); nothing is ever matched on
// a prefix, a local part or a bare name.
export const linkKinds = ['email', 'github', 'gitlab'] as const;
export type LinkKind = (typeof linkKinds)[number];

// Whole addresses as git records them (`root@localhost` included): one @, no blanks.
const email = /^[^\s@]+@[^\s@]+$/;
// GitHub: alphanumerics and single inner hyphens, at most 39 characters.
const githubLogin = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,38}$/i;
// GitLab: letters, digits, `_`, `-`, `.`; not starting with `-` or `.`, at most 255 characters.
const gitlabLogin = /^[a-z0-9_][a-z0-9_.-]{0,254}$/i;

export function isLinkKind(kind: string): kind is LinkKind {
  return (linkKinds as readonly string[]).includes(kind);
}

// The value as stored and the key it is unique and matched under; undefined if invalid.
export function normalizeLink(kind: LinkKind, raw: string): string | undefined {
  const value = raw.trim();
  switch (kind) {
    case 'email':
      return value.length <= 254 && email.test(value) ? value.toLowerCase() : undefined;
    case 'github':
      return githubLogin.test(value) ? value.toLowerCase() : undefined;
    case 'gitlab':
      return gitlabLogin.test(value) && !/(\.|\.git|\.atom)$/i.test(value)
        ? value.toLowerCase()
        : undefined;
  }
}

const rules: Record<LinkKind, string> = {
  email: 'a whole e-mail address such as erin@corp.example',
  github: 'a GitHub login: letters, digits and single inner hyphens, at most 39 characters',
  gitlab:
    'a GitLab username: letters, digits, _ - and ., not starting with - or . and not ending with ., .git or .atom',
};

export function requireLink(kind: string, raw: string): { kind: LinkKind; normalized: string } {
  if (!isLinkKind(kind))
    throw new DomainError(
      identityErrors.IDENTITY_LINK_KIND_UNKNOWN,
      `identity kind ${JSON.stringify(kind)} is not one of ${linkKinds.join(', ')}`,
      { kind, kinds: [...linkKinds] },
    );
  const normalized = normalizeLink(kind, raw);
  if (normalized === undefined)
    throw new DomainError(
      identityErrors.IDENTITY_LINK_VALUE_INVALID,
      `${JSON.stringify(raw)} is not ${rules[kind]}`,
      { kind, expected: rules[kind] },
    );
  return { kind, normalized };
}

// `email:ADDRESS`, `github:LOGIN`, `gitlab:LOGIN` → kind and key; undefined for anything else.
export function parseLinkRef(ref: string): { kind: LinkKind; normalized: string } | undefined {
  const at = ref.indexOf(':');
  if (at <= 0) return undefined;
  const kind = ref.slice(0, at);
  if (!isLinkKind(kind)) return undefined;
  const normalized = normalizeLink(kind, ref.slice(at + 1));
  return normalized === undefined ? undefined : { kind, normalized };
}
