import { expect } from "chai";

/** Asserts that `promise` rejects with an Error whose message matches `message`, and returns that error. */
export async function expectRejection(promise: Promise<unknown>, message: RegExp): Promise<Error> {
  let error: unknown;
  try {
    await promise;
  } catch (caught) {
    error = caught;
  }
  expect(error, `expected a rejection matching ${message}`).to.be.instanceOf(Error);
  expect((error as Error).message).to.match(message);
  return error as Error;
}
