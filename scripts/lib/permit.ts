/**
 * EIP-2612 permits for the payment token (OpenZeppelin's ERC20Permit, domain version "1"): what a payer signs so
 * that `TollEscrow.depositWithPermit` can take the tokens without a separate approval.
 */
import { Signature, type Signer } from "ethers";

/** The token methods a permit needs (TestStablecoin and any OpenZeppelin ERC20Permit). */
export interface PermitToken {
  name(): Promise<string>;
  nonces(owner: string): Promise<bigint>;
  getAddress(): Promise<string>;
}

const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** `owner`'s permit letting `spender` take `value` of `token` until `deadline` (unix seconds), on its next nonce. */
export async function signPermit(
  token: PermitToken,
  chainId: bigint,
  owner: Signer,
  spender: string,
  value: bigint,
  deadline: bigint,
): Promise<Signature> {
  const ownerAddress = await owner.getAddress();
  const domain = { name: await token.name(), version: "1", chainId, verifyingContract: await token.getAddress() };
  const message = { owner: ownerAddress, spender, value, nonce: await token.nonces(ownerAddress), deadline };
  return Signature.from(await owner.signTypedData(domain, PERMIT_TYPES, message));
}
