import { expect } from 'chai';
import { contains, exposureOf, formatCidr, isTrusted, parseCidr } from '../../../shared/rules/aws/cidr';
import { hasLimitingCondition, isAdminStatement, isPublicPrincipal, parsePolicyDocument, principalAccounts } from '../../../shared/rules/aws/policy';

describe('CIDR arithmetic (shared/rules/aws/cidr)', () => {
  const formats: [string, string | undefined][] = [
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['208.236.235.254/0', '0.0.0.0/0'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['203.0.113.7', '203.0.113.7/32'],
    ['::/0', '::/0'],
    ['2001:DB8:0:0:0:0:0:1/128', '2001:db8::1/128'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['fc00::/7', 'fc00::/7'],
    ['::ffff:192.0.2.1/128', '::ffff:c000:201/128'],
    ['1:0:0:1:0:0:0:1/128', '1:0:0:1::1/128'],
    ['256.0.0.0/8', undefined],
    ['10.0.0.0/33', undefined],
    ['1.2.3/24', undefined],
    ['::1::/64', undefined],
    ['2001:db8::/129', undefined],
    ['0.0.0.0/-1', undefined],
    ['', undefined],
    ['any', undefined],
  ];
  for (const [input, expected] of formats) {
    it(`${JSON.stringify(input)} -> ${expected ?? 'not a CIDR'}`, () => {
      const parsed = parseCidr(input);
      expect(parsed ? formatCidr(parsed) : undefined).to.equal(expected);
    });
  }

  const exposures: [string, string | undefined][] = [
    ['0.0.0.0/0', 'world'],
    ['::/0', 'world'],
    ['0.0.0.0/1', 'broad'],
    ['128.0.0.0/1', 'broad'],
    ['44.0.0.0/8', 'broad'],
    ['2000::/3', 'broad'],
    ['44.0.0.0/9', undefined],
    ['10.0.0.0/8', undefined],
    ['172.16.0.0/12', undefined],
    ['192.168.0.0/16', undefined],
    ['100.64.0.0/10', undefined],
    ['fc00::/7', undefined],
    ['fd12:3456::/48', undefined],
    ['fe80::/10', undefined],
    ['203.0.113.0/24', undefined],
  ];
  for (const [input, expected] of exposures) {
    it(`${input} is ${expected ?? 'not the internet'}`, () => expect(exposureOf(parseCidr(input)!)).to.equal(expected));
  }

  it('contains compares whole ranges of the same family', () => {
    expect(contains(parseCidr('10.0.0.0/8')!, parseCidr('10.1.0.0/16')!)).to.equal(true);
    expect(contains(parseCidr('10.1.0.0/16')!, parseCidr('10.0.0.0/8')!)).to.equal(false);
    expect(contains(parseCidr('0.0.0.0/0')!, parseCidr('::/0')!)).to.equal(false);
    expect(isTrusted(parseCidr('198.51.100.0/25')!, ['not-a-cidr', '198.51.100.0/24'])).to.equal(true);
    expect(isTrusted(parseCidr('198.51.100.0/23')!, ['198.51.100.0/24'])).to.equal(false);
  });
});

describe('IAM policy documents (shared/rules/aws/policy)', () => {
  const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] };

  it('reads objects, JSON strings and URL-encoded JSON strings; nothing else', () => {
    expect(parsePolicyDocument(doc)).to.deep.equal(doc);
    expect(parsePolicyDocument(JSON.stringify(doc))).to.deep.equal(doc);
    expect(parsePolicyDocument(encodeURIComponent(JSON.stringify(doc)))).to.deep.equal(doc);
    expect(parsePolicyDocument('%E0%A4%A')).to.equal(undefined);
    expect(parsePolicyDocument('[1,2]')).to.equal(undefined);
    expect(parsePolicyDocument(42)).to.equal(undefined);
    expect(parsePolicyDocument('x'.repeat(300_000))).to.equal(undefined);
  });

  const limiting: [string, Record<string, unknown>, boolean][] = [
    ['StringEquals aws:SourceVpce', { StringEquals: { 'aws:SourceVpce': 'vpce-1' } }, true],
    ['StringEquals aws:sourcevpc (keys are case-insensitive)', { StringEquals: { 'aws:sourcevpc': 'vpc-1' } }, true],
    ['ArnLike AWS:SourceArn (Lambda spelling)', { ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::b' } }, true],
    ['StringEquals aws:PrincipalOrgID', { StringEquals: { 'aws:PrincipalOrgID': ['o-1'] } }, true],
    ['StringEquals aws:PrincipalAccount', { StringEquals: { 'aws:PrincipalAccount': '123456789012' } }, true],
    ['IpAddress aws:SourceIp narrow and private', { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '203.0.113.0/24'] } }, true],
    ['IpAddress aws:SourceIp with one broad range', { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '0.0.0.0/0'] } }, false],
    ['NotIpAddress aws:SourceIp', { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, false],
    ['StringNotEquals aws:SourceVpce', { StringNotEquals: { 'aws:SourceVpce': 'vpce-1' } }, false],
    ['StringEqualsIfExists aws:SourceVpce', { StringEqualsIfExists: { 'aws:SourceVpce': 'vpce-1' } }, false],
    ['ForAllValues:StringEquals aws:PrincipalOrgID', { 'ForAllValues:StringEquals': { 'aws:PrincipalOrgID': 'o-1' } }, false],
    ['StringLike aws:SourceArn "*"', { StringLike: { 'aws:SourceArn': '*' } }, false],
    ['Bool aws:SecureTransport', { Bool: { 'aws:SecureTransport': 'true' } }, false],
    ['Null aws:SourceVpce', { Null: { 'aws:SourceVpce': 'false' } }, false],
  ];
  for (const [name, condition, expected] of limiting) {
    it(`${name} ${expected ? 'limits' : 'does not limit'} the statement`, () => expect(hasLimitingCondition({ Effect: 'Allow', Principal: '*', Condition: condition })).to.equal(expected));
  }

  it('tells public principals, accounts and admin statements apart', () => {
    expect(isPublicPrincipal({ Principal: '*' })).to.equal(true);
    expect(isPublicPrincipal({ Principal: { AWS: ['arn:aws:iam::111122223333:root', '*'] } })).to.equal(true);
    expect(isPublicPrincipal({ Principal: { Service: 'lambda.amazonaws.com' } })).to.equal(false);
    expect(isPublicPrincipal({ NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' } })).to.equal(true);
    expect(principalAccounts({ Principal: { AWS: ['111122223333', 'arn:aws:iam::444455556666:role/x', 'arn:aws:sts::777788889999:assumed-role/r/s', '*'] } })).to.deep.equal(['111122223333', '444455556666', '777788889999']);
    expect(isAdminStatement({ Effect: 'Allow', Action: '*', Resource: '*' })).to.equal(true);
    expect(isAdminStatement({ Effect: 'Allow', Action: ['s3:*', '*:*'], Resource: ['*'] })).to.equal(true);
    expect(isAdminStatement({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::b/*' })).to.equal(false);
    expect(isAdminStatement({ Effect: 'Deny', Action: '*', Resource: '*' })).to.equal(false);
  });
});
