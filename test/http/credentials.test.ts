import { basicCredentials, sameSecret } from '../../src/http/credentials';
import { basicAuthorization } from '../support/wire';

describe('the one Basic parser and the one constant-time compare', () => {
  it('reads Basic credentials in any case of the scheme, the password after the first colon', () => {
    expect(basicCredentials(basicAuthorization('ann', 'pw:with:colons'))).toEqual({ username: 'ann', password: 'pw:with:colons' });
    expect(basicCredentials(`bAsIc  ${Buffer.from('josé:ü').toString('base64')} `)).toEqual({ username: 'josé', password: 'ü' });
  });

  it('takes a value without a colon as a user-id and no password (refused like a wrong password)', () => {
    expect(basicCredentials(`Basic ${Buffer.from('ann').toString('base64')}`)).toEqual({ username: 'ann', password: '' });
  });

  it('finds no credentials in anything else', () => {
    for (const header of [undefined, '', 'Basic', 'Basic ', 'Bearer abc', 'Basic a b', 'Basic ab!c', 'Basicabc', `Negotiate ${Buffer.from('a:b').toString('base64')}`]) {
      expect(basicCredentials(header)).toBeUndefined();
    }
  });

  it('compares secrets of any lengths', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
    expect(sameSecret('', '')).toBe(true);
  });
});
