// Types of model.js, for the TypeScript that imports it (its unit test); the page runs the JavaScript.
export function marginBuffer(account: { equity: string; maintenanceMargin: string }): string;
export function priceDistance(position: { liquidationPrice: string | null; markPrice: string | null }): string | null;
export function formatAmount(value: string | null | undefined, places?: number): string;
export function formatPercent(value: string | null | undefined, places?: number): string;
export function shortAccount(id: string): string;

export interface Transition {
  account: { id: string };
  blockNumber: number;
}
export function addTransitions<T>(list: T[], incoming: T[], limit?: number): T[];

export class TransitionCursor {
  constructor(afterBlock: number);
  afterBlock: number;
  accept(transition: Transition): boolean;
}

export interface EquitySample {
  block: number;
  timestamp: number;
  equity: string;
}
export class EquitySamples {
  constructor(limit?: number);
  readonly samples: EquitySample[];
  readonly last: string | null;
  add(block: number, timestamp: number, equity: string): void;
  series(): [number[], number[]];
}
