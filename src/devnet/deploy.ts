// Deploys the reference venue to a devnet (anvil) with anvil's first default account
// as owner, and hands back viem clients wired for it.
import {
  createPublicClient, createTestClient, createWalletClient, defineChain, http,
  type Address, type Chain, type Hex, type PublicClient, type TestClient, type Transport, type WalletClient,
} from 'viem';
import { mnemonicToAccount, privateKeyToAccount, type HDAccount, type PrivateKeyAccount } from 'viem/accounts';
import { MalformedEmitterArtifact, VenueArtifact } from '../chain/artifacts.js';

/** anvil's default mnemonic; its accounts are pre-funded with 10000 ETH each. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
/** Account 0 of ANVIL_MNEMONIC (0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266): the venue owner. */
export const ANVIL_OWNER_PRIVATE_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

/** Default account `index` (0..9 are funded by anvil), e.g. traders that send their own deposits. */
export function anvilAccount(index: number): HDAccount {
  return mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
}

export interface DevnetClients {
  chain: Chain;
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, PrivateKeyAccount>;
  testClient: TestClient<'anvil', Transport, Chain>;
}

export interface VenueDeployment extends DevnetClients {
  address: Address;
  owner: PrivateKeyAccount;
  /** Block of the deployment: where an ingester of this venue can start. */
  blockNumber: bigint;
}

// viem polls every 4 s by default (tuned for public chains); anvil mines instantly.
const POLLING_INTERVAL_MS = 50;

/** viem clients for the devnet at `rpcUrl`, signing as the owner (account 0). */
export async function devnetClients(rpcUrl: string): Promise<DevnetClients> {
  const transport = http(rpcUrl);
  const id = await createPublicClient({ transport }).getChainId();
  const chain = defineChain({
    id,
    name: `devnet ${id}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const account = privateKeyToAccount(ANVIL_OWNER_PRIVATE_KEY);
  return {
    chain,
    publicClient: createPublicClient({ chain, transport, pollingInterval: POLLING_INTERVAL_MS }),
    walletClient: createWalletClient({ chain, transport, account, pollingInterval: POLLING_INTERVAL_MS }),
    testClient: createTestClient({ chain, transport, mode: 'anvil', pollingInterval: POLLING_INTERVAL_MS }),
  };
}

/** Deploys `contracts/Venue.sol` (from the committed artifacts) owned by account 0. */
export async function deployVenue(rpcUrl: string): Promise<VenueDeployment> {
  const clients = await devnetClients(rpcUrl);
  const { address, blockNumber } = await deploy(clients, VenueArtifact);
  return { ...clients, address, owner: clients.walletClient.account, blockNumber };
}

/** Deploys `contracts/MalformedEmitter.sol`, whose logs the venue ABI cannot decode. */
export async function deployMalformedEmitter(clients: DevnetClients): Promise<Address> {
  return (await deploy(clients, MalformedEmitterArtifact)).address;
}

async function deploy(
  { publicClient, walletClient }: DevnetClients,
  artifact: { abi: readonly unknown[]; bytecode: Hex },
): Promise<{ address: Address; blockNumber: bigint }> {
  const hash = await walletClient.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`deployment failed in ${hash}`);
  return { address: receipt.contractAddress, blockNumber: receipt.blockNumber };
}
