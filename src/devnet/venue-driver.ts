import { encodeFunctionData, type Address, type Hex } from 'viem';
import { VenueArtifact } from '../chain/artifacts.js';
import { toBytes32Name } from '../chain/names.js';
import { parseFixed } from '../fixed/index.js';
import type { VenueDeployment } from './deploy.js';

const abi = VenueArtifact.abi;
type Amount = string | number;
const amount = (value: Amount) => parseFixed(String(value));
const encode = (functionName: string, args: readonly unknown[]): Hex =>
  encodeFunctionData({ abi, functionName, args } as never);

/**
 * Drives the reference venue with decimal amounts ("3000.5"): each `call` builds the
 * calldata of one venue function and `send` mines them, in order, in one transaction
 * (one block under automine) through the venue's owner-only `batch`. Used by the demo,
 * the tests and the benchmarks.
 */
export class VenueDriver {
  constructor(readonly deployment: VenueDeployment) {}

  get address(): Address {
    return this.deployment.address;
  }

  readonly call = {
    listPerpetual: (id: string, underlying: string, terms: { imf: Amount; mmf: Amount; fundingInterval: number; maxFundingRate: Amount }) =>
      encode('listMarket', [toBytes32Name(id), toBytes32Name(underlying), 0, 0n, 0n, amount(terms.imf), amount(terms.mmf), BigInt(terms.fundingInterval), amount(terms.maxFundingRate)]),
    listOption: (id: string, underlying: string, kind: 'CALL' | 'PUT', strike: Amount, expiry: number, terms: { imf: Amount; mmf: Amount }) =>
      encode('listMarket', [toBytes32Name(id), toBytes32Name(underlying), kind === 'CALL' ? 1 : 2, amount(strike), BigInt(expiry), amount(terms.imf), amount(terms.mmf), 0n, 0n]),
    listRaw: (id: string, underlying: string, kind: number, strike: Amount, expiry: number) =>
      encode('listMarket', [toBytes32Name(id), toBytes32Name(underlying), kind, amount(strike), BigInt(expiry), 0n, 0n, 0n, 0n]),
    setReporter: (reporter: Address, allowed: boolean) => encode('setReporter', [reporter, allowed]),
    marginFractions: (id: string, imf: Amount, mmf: Amount) => encode('updateMarginFractions', [toBytes32Name(id), amount(imf), amount(mmf)]),
    /** A price from the owner as source; other sources call `reportPriceAs`. */
    price: (underlying: string, price: Amount) => encode('reportPrice', [toBytes32Name(underlying), amount(price)]),
    volatility: (id: string, iv: Amount) => encode('reportVolatility', [toBytes32Name(id), amount(iv)]),
    depositFor: (trader: Address, sub: number, value: Amount) => encode('depositFor', [trader, sub, amount(value)]),
    /** The owner's own withdrawal (msg.sender stays the owner inside `batch`). */
    withdraw: (sub: number, value: Amount) => encode('withdraw', [sub, amount(value)]),
    fill: (id: string, trader: Address, sub: number, size: Amount, price: Amount, fee: Amount = 0) =>
      encode('emitFill', [toBytes32Name(id), trader, sub, amount(size), amount(price), amount(fee)]),
    trade: (id: string, buyer: { trader: Address; sub: number; fee?: Amount }, seller: { trader: Address; sub: number; fee?: Amount }, size: Amount, price: Amount) =>
      encode('settleTrade', [toBytes32Name(id), buyer.trader, buyer.sub, seller.trader, seller.sub, amount(size), amount(price), amount(buyer.fee ?? 0), amount(seller.fee ?? 0)]),
    liquidate: (id: string, victim: { trader: Address; sub: number }, liquidator: { trader: Address; sub: number }, size: Amount, price: Amount, penalty: Amount) =>
      encode('liquidate', [toBytes32Name(id), victim.trader, victim.sub, liquidator.trader, liquidator.sub, amount(size), amount(price), amount(penalty)]),
  };

  /** Mines `calls` in one transaction, optionally at a given block timestamp; resolves once mined. */
  async send(calls: Hex[], options: { timestamp?: number } = {}): Promise<{ blockNumber: number; transactionHash: Hex }> {
    const { walletClient, publicClient, testClient } = this.deployment;
    if (options.timestamp !== undefined) await testClient.setNextBlockTimestamp({ timestamp: BigInt(options.timestamp) });
    const hash = await walletClient.writeContract({ address: this.address, abi, functionName: 'batch', args: [calls] } as never);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`venue batch reverted in ${hash}`);
    return { blockNumber: Number(receipt.blockNumber), transactionHash: hash };
  }

  /** Mines an empty block, optionally at a given timestamp. */
  async mine(options: { timestamp?: number } = {}): Promise<number> {
    const { testClient, publicClient } = this.deployment;
    if (options.timestamp !== undefined) await testClient.setNextBlockTimestamp({ timestamp: BigInt(options.timestamp) });
    await testClient.mine({ blocks: 1 });
    return Number(await publicClient.getBlockNumber({ cacheTime: 0 }));
  }
}
