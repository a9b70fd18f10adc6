// Which production environments a secret version reaches, from the environments in force: the
// same rule as the release (secret-release.ts), asked of the environments' own pools, because
// a deploy stage always runs in its environment's pool.
//
// - An environment secret reaches its environment, when that is production.
// - A project-wide secret reaches every production environment of the project whose pool
//   (`runnerPool`, `default` when it names none) the secret may go to: it names no `pools`,
//   or its `pools` include that pool. An environment secret of the same name that shadows it
//   there today does not count: it may be the one that changes next.
//
// A version that reaches at least one needs a second person before it is in force.

export interface EnvironmentInForce {
  readonly name: string;
  readonly type: 'production' | 'pre-production';
  readonly pool: string;
}

export function productionReach(
  secret: { readonly environment: string; readonly pools: readonly string[] },
  environments: readonly EnvironmentInForce[],
): string[] {
  return environments
    .filter((e) => e.type === 'production')
    .filter((e) =>
      secret.environment
        ? e.name === secret.environment
        : secret.pools.length === 0 || secret.pools.includes(e.pool),
    )
    .map((e) => e.name);
}
