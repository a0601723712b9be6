/** chai with chai-as-promised, for `await expect(p).to.be.rejectedWith(...)`. */
import * as chai from 'chai';
import chaiAsPromised from 'chai-as-promised';

chai.use(chaiAsPromised);
export const expect = chai.expect;
