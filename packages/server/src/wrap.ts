import type { TsgiApplication } from '@carafe/gateway';

/** Gives a wrapping application the wrapped one's lifespan hooks, as §5 asks of middleware. */
export function keepLifespan(outer: TsgiApplication, inner: TsgiApplication): TsgiApplication {
  if (inner.lifespan) outer.lifespan = inner.lifespan;
  return outer;
}
