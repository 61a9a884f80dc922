import { join } from 'node:path';
import { OPERATIONS } from '../../src/doors/xweb/operations';
import { elementOf, SERVICES } from '../../src/doors/zato/services';
import { readFields, schemaRules } from '../../src/http/soap/schema';
import { parseUntrustedXml } from '../../src/http/soap/guard';

const WSDL = (name: string) => join(__dirname, '..', '..', 'wsdl', name);

/**
 * The doors read SOAP requests by the rules of their WSDL's schema (`schemaRules`): each field's namespace,
 * maxOccurs and simple type. The doors' own field tables (what is required) must say the same as the schema.
 */
describe('rules read from the WSDLs', () => {
  it('xWeb: every operation field is in the schema, required exactly when minOccurs is 1, once at most, text only', () => {
    const rules = schemaRules(WSDL('xweb.wsdl'));
    for (const op of OPERATIONS) {
      const rule = rules.get(op.name)!;
      expect(rule.fieldNs).toBe('http://www.avectra.com/2005/');
      expect([...rule.fields.keys()]).toEqual(op.fields.map((f) => f.name));
      for (const field of op.fields) {
        expect([field.name, rule.fields.get(field.name)!.minOccurs >= 1]).toEqual([field.name, field.required]);
        expect(rule.fields.get(field.name)).toMatchObject({ maxOccurs: 1, simple: true });
      }
    }
    expect(rules.get('AuthorizationToken')!.fields.get('Token')).toMatchObject({ maxOccurs: 1, simple: true });
  });

  it('Zato: every service field is in the schema, once at most, text only; the schema marks required what the door requires', () => {
    const rules = schemaRules(WSDL('zato.wsdl'));
    for (const service of SERVICES) {
      const rule = rules.get(`${elementOf(service)}_request`)!;
      expect(rule.fieldNs).toBe('https://zato.io/ns/20130518');
      expect([...rule.fields.keys()]).toEqual(service.fields.map((f) => f.name));
      for (const field of service.fields) {
        expect([service.name, field.name, rule.fields.get(field.name)!.minOccurs >= 1]).toEqual([service.name, field.name, field.required]);
        expect(rule.fields.get(field.name)).toMatchObject({ maxOccurs: 1, simple: true });
      }
    }
  });

  it('reads a field by namespace and local name, refusing a second one and an element inside a value', () => {
    const rule = schemaRules(WSDL('xweb.wsdl')).get('WebValidate')!;
    const body = (inner: string) => parseUntrustedXml(Buffer.from(`<WebValidate xmlns="http://www.avectra.com/2005/" xmlns:o="urn:o">${inner}</WebValidate>`));
    expect(readFields(body('<o:authenticationToken>x</o:authenticationToken><authenticationToken>y</authenticationToken>'), rule).get('authenticationToken')!.text).toBe('y');
    expect(readFields(body('<other>z</other>'), rule).size).toBe(0);
    expect(() => readFields(body('<authenticationToken>a</authenticationToken><authenticationToken>b</authenticationToken>'), rule)).toThrow(
      'Element authenticationToken is given more than once in WebValidate',
    );
    expect(() => readFields(body('<authenticationToken>a<i/>b</authenticationToken>'), rule)).toThrow(
      'Element authenticationToken must hold text only, not the element i',
    );
  });
});
