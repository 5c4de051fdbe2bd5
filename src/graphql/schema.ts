/**
 * The executable schema: schema.graphql (the contract, at the repository root) with the
 * scalars and every module's resolvers, its list fields paced by the operation's budget
 * (protection/paced-lists.ts). Subscription resolvers come from the caller.
 */
import { readFileSync } from 'node:fs';
import { makeExecutableSchema, type IExecutableSchemaDefinition } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import type { RequestContext } from './context.js';
import { accountResolvers } from './modules/account/resolvers.js';
import { anomalyResolvers } from './modules/anomaly/resolvers.js';
import { fillResolvers } from './modules/fill/resolvers.js';
import { fundingResolvers } from './modules/funding/resolvers.js';
import { historyResolvers } from './modules/history/resolvers.js';
import { marketResolvers } from './modules/market/resolvers.js';
import { metaResolvers } from './modules/meta/resolvers.js';
import { positionResolvers } from './modules/position/resolvers.js';
import { stressResolvers } from './modules/stress/resolvers.js';
import { transferResolvers } from './modules/transfer/resolvers.js';
import { transitionResolvers } from './modules/transition/resolvers.js';
import { underlyingResolvers } from './modules/underlying/resolvers.js';
import { connectionResolvers } from './pagination.js';
import { paceListFields } from './protection/paced-lists.js';
import { DecimalScalar, SafeIntScalar } from './scalars.js';

export type IResolvers = Exclude<NonNullable<IExecutableSchemaDefinition<RequestContext>['resolvers']>, readonly unknown[]>;

export const SCHEMA_PATH = new URL('../../schema.graphql', import.meta.url);

let typeDefs: string | undefined;

export function buildSchema(extra: { Subscription?: IResolvers['Subscription'] } = {}): GraphQLSchema {
  typeDefs ??= readFileSync(SCHEMA_PATH, 'utf8');
  const modules = [
    metaResolvers,
    marketResolvers,
    underlyingResolvers,
    accountResolvers,
    positionResolvers,
    fillResolvers,
    transitionResolvers,
    transferResolvers,
    fundingResolvers,
    anomalyResolvers,
    stressResolvers,
    historyResolvers,
  ] as IResolvers[];
  const resolvers: IResolvers[] = [{ Decimal: DecimalScalar, SafeInt: SafeIntScalar }, connectionResolvers(typeDefs), ...modules];
  if (extra.Subscription) resolvers.push({ Subscription: extra.Subscription });
  return paceListFields(makeExecutableSchema<RequestContext>({ typeDefs, resolvers }));
}
