import { expect } from 'chai';
import { derive, run, type DetectorCase, type Json } from './support/records';
import { detectorTable } from './support/table';

/**
 * No ConsoleLogin record is in the corpus: these are the corpus envelopes (a Root caller, an IAMUser caller,
 * an AssumedRole caller) turned into the sign-in shape wave2.md section A documents: eventSource
 * signin.amazonaws.com, requestParameters null, responseElements.ConsoleLogin, additionalEventData.MFAUsed.
 */
function signIn(base: 'createBucketRoot' | 'bucketPolicy' | 'createBucketAssumedRole', result: 'Success' | 'Failure', mfa: 'Yes' | 'No', detailType = 'AWS Console Sign In via CloudTrail'): Json {
  return derive(base, (record, input) => {
    input['detail-type'] = detailType;
    input.source = 'aws.signin';
    record.eventSource = 'signin.amazonaws.com';
    record.eventName = 'ConsoleLogin';
    record.eventType = 'AwsConsoleSignIn';
    record.requestParameters = null;
    record.responseElements = { ConsoleLogin: result };
    record.additionalEventData = { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: mfa };
    if (result === 'Failure') record.errorMessage = 'Failed authentication';
  });
}

const ROOT_EVENT = 'c4fa3db1-2303-40e4-bde0-3b7246bdbf0b';
const USER_EVENT = '6e47d4fd-ce1b-499a-9337-2e9eabf67b35';

const cases: DetectorCase[] = [
  { name: 'root sign-in with MFA is CRITICAL, subject = event id', input: () => signIn('createBucketRoot', 'Success', 'Yes'), expect: [{ ruleId: 'aws.signin.root-console-login', outcome: 'fail', subject: ROOT_EVENT, severity: 'CRITICAL', resourceId: 'arn:aws:iam::619193117841:root', title: 'Root user signed in to the console' }] },
  { name: 'root sign-in without MFA says so in the title', input: () => signIn('createBucketRoot', 'Success', 'No'), expect: [{ ruleId: 'aws.signin.root-console-login', outcome: 'fail', severity: 'CRITICAL', title: 'Root user signed in to the console without MFA' }] },
  { name: 'root sign-in with the "Signin" detail-type spelling', input: () => signIn('createBucketRoot', 'Success', 'Yes', 'AWS Console Signin via CloudTrail'), expect: [{ ruleId: 'aws.signin.root-console-login', outcome: 'fail' }] },
  { name: 'a failed root sign-in (no errorCode, ConsoleLogin Failure) gives nothing', input: () => signIn('createBucketRoot', 'Failure', 'No'), expect: [] },
  { name: 'IAM user without MFA is HIGH', input: () => signIn('bucketPolicy', 'Success', 'No'), expect: [{ ruleId: 'aws.signin.console-login-without-mfa', outcome: 'fail', subject: USER_EVENT, severity: 'HIGH', resourceId: 'arn:aws:iam::012345678901:user/johndoe' }] },
  { name: 'IAM user with MFA gives nothing', input: () => signIn('bucketPolicy', 'Success', 'Yes'), expect: [] },
  { name: 'a failed IAM user sign-in without MFA gives nothing', input: () => signIn('bucketPolicy', 'Failure', 'No'), expect: [] },
  { name: 'an assumed-role (federated) sign-in reporting MFAUsed No gives nothing (the IdP did the MFA)', input: () => signIn('createBucketAssumedRole', 'Success', 'No'), expect: [] },
];

describe('console sign-in detectors', () => {
  detectorTable(cases);

  it('each sign-in is its own finding: two sign-ins, two subjects', () => {
    const first = run(signIn('bucketPolicy', 'Success', 'No'));
    const second = run(derive(signIn('bucketPolicy', 'Success', 'No'), (r) => (r.eventID = 'another-sign-in')));
    expect(first.fails[0]!.subject).to.not.equal(second.fails[0]!.subject);
    expect(first.fails[0]!.resourceId).to.equal(second.fails[0]!.resourceId);
  });
});
