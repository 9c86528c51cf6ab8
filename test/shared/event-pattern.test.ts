import { expect } from 'chai';
import { evaluatePattern, EventPatternError, matchesPattern, type EventPattern, type Json } from '../../shared/event-pattern/match';

/**
 * The examples of the EventBridge user guide, retyped with the verdict the guide gives: "Amazon
 * EventBridge event patterns" (eb-event-patterns), "Content filtering" (eb-event-patterns-content-based-
 * filtering), "Comparison operators" (eb-create-pattern-operators), "Arrays" (eb-event-patterns-arrays)
 * and "Matching null values and empty strings" (eb-event-patterns-null-values). Where the guide names
 * what a pattern selects ("events from European regions", "FileName is not a file path that includes
 * /lib/") without printing an event, the event is the smallest one the sentence describes, and a
 * counter-example is added next to it.
 */
const ec2Terminated = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};
const autoscalingLaunch = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};
const macieAlert = {
  version: '0',
  id: '3e355723-fca9-4de3-9fd7-154c289d6b59',
  'detail-type': 'Macie Alert',
  source: 'aws.macie',
  account: '123456789012',
  time: '2017-04-24T22:28:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id', 'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id'],
  detail: {
    'notification-type': 'ALERT_CREATED',
    name: 'Scanning bucket policies',
    tags: ['Custom_Alert', 'Insider'],
    url: 'https://lb00.us-east-1.macie.aws.amazon.com/111122223333/posts/alert_id',
    'alert-arn': 'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_',
    'risk-score': 80,
    trigger: {
      'rule-arn': 'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id',
      'alert-type': 'basic',
      'created-at': '2017-01-02 19:54:00.644000',
      description: 'Alerting on failed enumeration of large number of bucket policies',
      risk: 8,
    },
    'created-at': '2017-04-18T00:21:12.059000',
  },
};
const ec2Pending = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-abcd1111', state: 'pending' },
};
const stateList = {
  'detail-type': ['EC2 Instance State-change Notification'],
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
  detail: { state: ['initializing', 'running'] },
};
const cCountObject = {
  'detail-type': ['EC2 Instance State-change Notification'],
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
  detail: { state: ['initializing', 'running'], 'c-count': { c1: 100 } },
};
const onlyCCountObject = {
  'detail-type': ['EC2 Instance State-change Notification'],
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
  detail: { 'c-count': { c1: 100 } },
};

interface Case {
  name: string;
  pattern: EventPattern;
  event: Record<string, unknown>;
  matches: boolean;
}

const at = (detail: Record<string, Json>) => ({ ...ec2Pending, detail });

const cases: Case[] = [
  // eb-event-patterns
  { name: 'EC2 instance-termination events', pattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } }, event: ec2Terminated, matches: true },
  { name: 'values OR: aws.ec2 or aws.fargate', pattern: { source: ['aws.ec2', 'aws.fargate'] }, event: ec2Terminated, matches: true },
  { name: 'field matching: responseElements is null', pattern: { source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance Launch Successful'], detail: { responseElements: [null] } }, event: autoscalingLaunch, matches: true },
  { name: 'value matching: risk score 80 and trigger risk 8', pattern: { source: ['aws.macie'], 'detail-type': ['Macie Alert'], detail: { 'risk-score': [80], trigger: { risk: [8] } } }, event: macieAlert, matches: true },
  { name: 'value matching: risk score 80 but trigger risk 9 is not the event', pattern: { source: ['aws.macie'], detail: { 'risk-score': [80], trigger: { risk: [9] } } }, event: macieAlert, matches: false },
  { name: 'strings match character by character, no case folding', pattern: { source: ['AWS.EC2'] }, event: ec2Terminated, matches: false },
  // eb-event-patterns-null-values
  { name: 'empty string: eventVersion is ""', pattern: { detail: { eventVersion: [''] } }, event: autoscalingLaunch, matches: true },
  { name: 'null: responseElements is null', pattern: { detail: { responseElements: [null] } }, event: autoscalingLaunch, matches: true },
  { name: 'null and "" are not interchangeable: [""] does not match null', pattern: { detail: { responseElements: [''] } }, event: autoscalingLaunch, matches: false },
  { name: 'null and "" are not interchangeable: [null] does not match ""', pattern: { detail: { eventVersion: [null] } }, event: autoscalingLaunch, matches: false },
  { name: 'null is not missing: [null] does not match an absent field', pattern: { detail: { requestParameters: [null] } }, event: autoscalingLaunch, matches: false },
  // eb-event-patterns-arrays
  {
    name: 'arrays: the pattern matches when the two arrays intersect',
    pattern: { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f', 'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f'] },
    event: { resources: ['arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate', 'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] },
    matches: true,
  },
  { name: 'arrays: no common element, no match', pattern: { resources: ['arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f'] }, event: ec2Terminated, matches: false },
  // content filtering: prefix
  { name: 'prefix: time starts with 2017-10-02', pattern: { time: [{ prefix: '2017-10-02' }] }, event: { ...ec2Terminated, time: '2017-10-02T18:43:48Z' }, matches: true },
  { name: 'prefix: another day does not', pattern: { time: [{ prefix: '2017-10-02' }] }, event: ec2Terminated, matches: false },
  { name: 'prefix: Auto Scaling events from European regions (eu-west-1)', pattern: { source: ['aws.autoscaling'], region: [{ prefix: 'eu-' }] }, event: { ...autoscalingLaunch, region: 'eu-west-1' }, matches: true },
  { name: 'prefix: Auto Scaling events from us-east-1 are not European', pattern: { source: ['aws.autoscaling'], region: [{ prefix: 'eu-' }] }, event: autoscalingLaunch, matches: false },
  { name: 'prefix only works on strings', pattern: { detail: { 'risk-score': [{ prefix: '8' }] } }, event: macieAlert, matches: false },
  // content filtering: anything-but
  { name: 'anything-but a string: state pending is not initializing', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: ec2Pending, matches: true },
  { name: 'anything-but a string: state initializing', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: at({ state: 'initializing' }), matches: false },
  { name: 'anything-but a number: x-limit 124', pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, event: at({ 'x-limit': 124 }), matches: true },
  { name: 'anything-but a number: x-limit 123', pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, event: at({ 'x-limit': 123 }), matches: false },
  { name: 'anything-but a list of strings: state running', pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, event: at({ state: 'running' }), matches: true },
  { name: 'anything-but a list of strings: state overloaded', pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, event: at({ state: 'overloaded' }), matches: false },
  { name: 'anything-but a list of numbers: x-limit 200', pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, event: at({ 'x-limit': 200 }), matches: false },
  { name: 'anything-but a list of numbers: x-limit 250', pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, event: at({ 'x-limit': 250 }), matches: true },
  { name: 'anything-but prefix: state initializing has the prefix init', pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, event: at({ state: 'initializing' }), matches: false },
  { name: 'anything-but prefix: state pending has not', pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, event: ec2Pending, matches: true },
  { name: 'anything-but: every event except CloudTrail API calls (an EC2 state change)', pattern: { 'detail-type': [{ 'anything-but': 'AWS API Call via CloudTrail' }] }, event: ec2Terminated, matches: true },
  { name: 'anything-but: every event except CloudTrail API calls (a CloudTrail call)', pattern: { 'detail-type': [{ 'anything-but': 'AWS API Call via CloudTrail' }] }, event: { ...ec2Terminated, 'detail-type': 'AWS API Call via CloudTrail' }, matches: false },
  { name: 'anything-but: not from EC2 or S3 (EC2)', pattern: { source: [{ 'anything-but': ['aws.ec2', 'aws.s3'] }] }, event: ec2Terminated, matches: false },
  { name: 'anything-but: not from EC2 or S3 (Auto Scaling)', pattern: { source: [{ 'anything-but': ['aws.ec2', 'aws.s3'] }] }, event: autoscalingLaunch, matches: true },
  { name: 'anything-but prefix aws.: only your own events (an AWS event)', pattern: { source: [{ 'anything-but': { prefix: 'aws.' } }] }, event: ec2Terminated, matches: false },
  { name: 'anything-but prefix aws.: only your own events (PutEvents from your app)', pattern: { source: [{ 'anything-but': { prefix: 'aws.' } }] }, event: { ...ec2Terminated, source: 'com.mycompany.myapp' }, matches: true },
  { name: 'anything-but needs the field: absent state', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: at({}), matches: false },
  // content filtering: numeric
  {
    name: 'numeric: c-count in (0, 5], d-count < 10, x-limit = 301.8',
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } },
    event: at({ 'c-count': 5, 'd-count': 9, 'x-limit': 301.8 }),
    matches: true,
  },
  {
    name: 'numeric: c-count 0 is not above 0 (all fields must hold)',
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } },
    event: at({ 'c-count': 0, 'd-count': 9, 'x-limit': 301.8 }),
    matches: false,
  },
  { name: 'numeric works with JSON numbers only: "5" is a string', pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, event: at({ 'c-count': '5' }), matches: false },
  // content filtering: IP address
  { name: 'cidr: 10.0.0.255 is in 10.0.0.0/24', pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, event: at({ sourceIPAddress: '10.0.0.255' }), matches: true },
  { name: 'cidr: 10.0.1.0 is not', pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, event: at({ sourceIPAddress: '10.0.1.0' }), matches: false },
  // content filtering: exists
  { name: 'exists false: no detail.c-count', pattern: { detail: { 'c-count': [{ exists: false }] } }, event: stateList, matches: true },
  { name: 'exists false: c-count is an object, not a leaf', pattern: { detail: { 'c-count': [{ exists: false }] } }, event: cCountObject, matches: true },
  { name: 'exists false: c-count present', pattern: { detail: { 'c-count': [{ exists: false }] } }, event: at({ 'c-count': 3 }), matches: false },
  { name: 'exists true: detail.state present', pattern: { detail: { state: [{ exists: true }] } }, event: ec2Pending, matches: true },
  { name: 'exists true: no detail.state (only an object c-count)', pattern: { detail: { state: [{ exists: true }] } }, event: onlyCCountObject, matches: false },
  { name: 'exists true: every event with a description (an index of them)', pattern: { detail: { description: [{ exists: true }] } }, event: macieAlert, matches: false },
  // content filtering: complex
  {
    name: 'complex: prefix + anything-but + numeric + anything-but list',
    pattern: {
      time: [{ prefix: '2017-10-02' }],
      detail: { state: [{ 'anything-but': 'initializing' }], 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ 'anything-but': [100, 200, 300] }] },
    },
    event: { ...ec2Pending, time: '2017-10-02T01:02:03Z', detail: { state: 'running', 'c-count': 1, 'd-count': 2, 'x-limit': 150 } },
    matches: true,
  },
  {
    name: 'complex: x-limit 300 is excluded',
    pattern: {
      time: [{ prefix: '2017-10-02' }],
      detail: { state: [{ 'anything-but': 'initializing' }], 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ 'anything-but': [100, 200, 300] }] },
    },
    event: { ...ec2Pending, time: '2017-10-02T01:02:03Z', detail: { state: 'running', 'c-count': 1, 'd-count': 2, 'x-limit': 300 } },
    matches: false,
  },
  // eb-create-pattern-operators (the summary table)
  { name: 'And: Location is New York and Day is Monday', pattern: { Location: ['New York'], Day: ['Monday'] }, event: { Location: 'New York', Day: 'Monday' }, matches: true },
  { name: 'And: New York on a Tuesday', pattern: { Location: ['New York'], Day: ['Monday'] }, event: { Location: 'New York', Day: 'Tuesday' }, matches: false },
  { name: 'Or ($or): Location is New York, or Day is Monday (Boston on Monday)', pattern: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] }, event: { Location: 'Boston', Day: 'Monday' }, matches: true },
  { name: 'Or ($or): Boston on a Tuesday', pattern: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] }, event: { Location: 'Boston', Day: 'Tuesday' }, matches: false },
  { name: 'Or: PaymentType is Credit or Debit', pattern: { PaymentType: ['Credit', 'Debit'] }, event: { PaymentType: 'Debit' }, matches: true },
  { name: 'Anything-but (begins with): Region is not in the US (eu-west-1)', pattern: { Region: [{ 'anything-but': { prefix: 'us-' } }] }, event: { Region: 'eu-west-1' }, matches: true },
  { name: 'Anything-but (begins with): us-east-1 is in the US', pattern: { Region: [{ 'anything-but': { prefix: 'us-' } }] }, event: { Region: 'us-east-1' }, matches: false },
  { name: 'Anything-but (ends with): FileName photo.jpg does not end with .png', pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] }, event: { FileName: 'photo.jpg' }, matches: true },
  { name: 'Anything-but (ends with): FileName photo.png', pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] }, event: { FileName: 'photo.png' }, matches: false },
  { name: 'Anything-but (ignore case): INITIALIZING is a casing of initializing', pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, event: { state: 'INITIALIZING' }, matches: false },
  { name: 'Anything-but (ignore case): running', pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, event: { state: 'running' }, matches: true },
  { name: 'Anything-but using a wildcard: a path that includes /lib/', pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, event: { FilePath: '/usr/lib/libc.so' }, matches: false },
  { name: 'Anything-but using a wildcard: a path without /lib/', pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, event: { FilePath: '/usr/bin/env' }, matches: true },
  { name: 'Begins with: Region is in the US', pattern: { Region: [{ prefix: 'us-' }] }, event: { Region: 'us-west-2' }, matches: true },
  { name: 'Begins with (ignore case): service starts with eventb', pattern: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }, event: { service: 'EventBridge' }, matches: true },
  { name: 'Begins with (ignore case): EVENTB casing of the documented EventB', pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } }, event: at({ service: 'eventbus' }), matches: true },
  { name: 'Empty: LastName is empty', pattern: { LastName: [''] }, event: { LastName: '' }, matches: true },
  { name: 'Equals: Name is Alice', pattern: { Name: ['Alice'] }, event: { Name: 'Alice' }, matches: true },
  { name: 'Equals is case-sensitive: alice is not Alice', pattern: { Name: ['Alice'] }, event: { Name: 'alice' }, matches: false },
  { name: 'Equals (ignore case): Name is Alice', pattern: { Name: [{ 'equals-ignore-case': 'alice' }] }, event: { Name: 'Alice' }, matches: true },
  { name: 'Ends with: FileName ends with .png', pattern: { FileName: [{ suffix: '.png' }] }, event: { FileName: 'image.png' }, matches: true },
  { name: 'Ends with: .PNG is another string', pattern: { FileName: [{ suffix: '.png' }] }, event: { FileName: 'image.PNG' }, matches: false },
  { name: 'Ends with (ignore case): service ends with tbridge', pattern: { service: [{ suffix: { 'equals-ignore-case': 'tbridge' } }] }, event: { service: 'EVENTBRIDGE' }, matches: true },
  { name: 'Ends with (ignore case): .PNG ends with .png', pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, event: at({ FileName: 'IMAGE.PNG' }), matches: true },
  { name: 'Exists: ProductName exists', pattern: { ProductName: [{ exists: true }] }, event: { ProductName: 'Widget' }, matches: true },
  { name: 'Does not exist: ProductName does not exist', pattern: { ProductName: [{ exists: false }] }, event: { Price: 3 }, matches: true },
  { name: 'Not: Weather is anything but Raining (Sunny)', pattern: { Weather: [{ 'anything-but': ['Raining'] }] }, event: { Weather: 'Sunny' }, matches: true },
  { name: 'Not: Weather is Raining', pattern: { Weather: [{ 'anything-but': ['Raining'] }] }, event: { Weather: 'Raining' }, matches: false },
  { name: 'Null: UserID is null', pattern: { UserID: [null] }, event: { UserID: null }, matches: true },
  { name: 'Numeric (equals): Price is 100', pattern: { Price: [{ numeric: ['=', 100] }] }, event: { Price: 100 }, matches: true },
  { name: 'Numeric (range): Price 20 is more than 10 and at most 20', pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] }, event: { Price: 20 }, matches: true },
  { name: 'Numeric (range): Price 10 is not more than 10', pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] }, event: { Price: 10 }, matches: false },
  { name: 'Wildcard: any .png file within the folder dir', pattern: { FileName: [{ wildcard: 'dir/*.png' }] }, event: { FileName: 'dir/fileName.png' }, matches: true },
  { name: 'Wildcard: a .jpg in dir', pattern: { FileName: [{ wildcard: 'dir/*.png' }] }, event: { FileName: 'dir/fileName.jpg' }, matches: false },
  { name: 'Wildcard: a .png outside dir', pattern: { FileName: [{ wildcard: 'dir/*.png' }] }, event: { FileName: 'other/fileName.png' }, matches: false },
];

describe('EventBridge pattern evaluator: the examples of the EventBridge user guide', () => {
  for (const { name, pattern, event, matches } of cases) {
    it(`${matches ? 'matches' : 'does not match'}: ${name}`, () => {
      const verdict = evaluatePattern(pattern, event);
      expect(verdict.matched, verdict.matched ? '' : verdict.reason).to.equal(matches);
    });
  }

  it('a key given twice counts once, the last reference (the note under "Complex example")', () => {
    const pattern = JSON.parse('{ "detail": { "location": [ { "prefix": "us-" } ], "location": [ { "anything-but": "us-east" } ] } }') as EventPattern;
    expect(matchesPattern(pattern, { detail: { location: 'eu-west' } })).to.equal(true);
    expect(matchesPattern(pattern, { detail: { location: 'us-east' } })).to.equal(false);
  });
});

describe('EventBridge pattern evaluator: beyond the guide', () => {
  it('$or nests below the top level and mixes with ANDed fields', () => {
    const pattern: EventPattern = { source: ['aws.lambda'], detail: { $or: [{ a: [1] }, { b: [{ exists: true }], c: ['x'] }] } };
    expect(matchesPattern(pattern, { source: 'aws.lambda', detail: { a: 1 } })).to.equal(true);
    expect(matchesPattern(pattern, { source: 'aws.lambda', detail: { b: 0, c: 'x' } })).to.equal(true);
    expect(matchesPattern(pattern, { source: 'aws.lambda', detail: { b: 0, c: 'y' } })).to.equal(false);
    expect(matchesPattern(pattern, { source: 'aws.s3', detail: { a: 1 } })).to.equal(false);
  });

  it('under an array of objects one element must match the whole sub-pattern', () => {
    const pattern: EventPattern = { employees: { first: ['Anna'], last: ['Smith'] } };
    expect(matchesPattern(pattern, { employees: [{ first: 'Anna', last: 'Jones' }, { first: 'Bob', last: 'Smith' }] })).to.equal(false);
    expect(matchesPattern(pattern, { employees: [{ first: 'Bob', last: 'Jones' }, { first: 'Anna', last: 'Smith' }] })).to.equal(true);
  });

  it('a nested pattern under a missing, null or scalar field sees no leaves: only exists false matches there', () => {
    const pattern: EventPattern = { responseElements: { functionArn: [{ exists: false }] } };
    expect(matchesPattern(pattern, {})).to.equal(true);
    expect(matchesPattern(pattern, { responseElements: null })).to.equal(true);
    expect(matchesPattern(pattern, { responseElements: 'x' })).to.equal(true);
    expect(matchesPattern(pattern, { responseElements: { functionArn: 'arn' } })).to.equal(false);
    expect(matchesPattern({ responseElements: { functionArn: [{ exists: true }] } }, { responseElements: null })).to.equal(false);
  });

  it('exists looks at leaves: an empty array has none, null is one', () => {
    expect(matchesPattern({ tags: [{ exists: true }] }, { tags: [] })).to.equal(false);
    expect(matchesPattern({ tags: [{ exists: false }] }, { tags: [] })).to.equal(true);
    expect(matchesPattern({ tags: [{ exists: true }] }, { tags: null })).to.equal(true);
  });

  it('wildcard: a backslash escapes a star, other characters are literal', () => {
    expect(matchesPattern({ k: [{ wildcard: 'a\\*b' }] }, { k: 'a*b' })).to.equal(true);
    expect(matchesPattern({ k: [{ wildcard: 'a\\*b' }] }, { k: 'axxb' })).to.equal(false);
    expect(matchesPattern({ k: [{ wildcard: 'a.c*' }] }, { k: 'abcd' })).to.equal(false);
    expect(matchesPattern({ k: [{ wildcard: 'arn:aws:s3:::*/up/*' }] }, { k: 'arn:aws:s3:::bucket/up/file' })).to.equal(true);
  });

  it('says which field stopped an event, with the value it had', () => {
    const verdict = evaluatePattern({ detail: { eventName: ['CreateFunction', { prefix: 'CreateFunction20' }] } }, { detail: { eventName: 'UpdateFunctionConfiguration20150331v2' } });
    expect(verdict).to.deep.equal({
      matched: false,
      reason: 'detail.eventName is "UpdateFunctionConfiguration20150331v2", which matches none of ["CreateFunction",{"prefix":"CreateFunction20"}]',
    });
    const missing = evaluatePattern({ detail: { errorCode: [{ exists: false }], eventSource: ['lambda.amazonaws.com'] } }, { detail: { errorCode: 'AccessDenied' } });
    expect(missing.matched === false && missing.reason).to.equal('detail.errorCode is "AccessDenied", which matches none of [{"exists":false}]');
    const or = evaluatePattern({ $or: [{ a: [1] }, { b: [2] }] }, { a: 3 });
    expect(or.matched === false && or.reason).to.equal('no $or branch matched at (top): (1) a is 3, which matches none of [1]; (2) b is absent, which matches none of [2]');
  });

  const invalid: [string, unknown, string][] = [
    ['an operator it does not know', { a: [{ contains: 'x' }] }, 'unsupported matcher operator "contains"'],
    ['$or with one branch', { $or: [{ a: [1] }] }, '$or takes a list of two or more patterns'],
    ['a scalar where a list belongs', { a: 'x' }, 'pattern values are lists of matchers'],
    ['an empty list', { a: [] }, 'cannot be empty'],
    ['anything-but mixing strings and numbers', { a: [{ 'anything-but': ['x', 1] }] }, 'only strings or only numbers'],
    ['anything-but with a list of prefixes', { a: [{ 'anything-but': { prefix: ['x'] } }] }, 'prefix takes one string'],
    ['numeric with an unknown operator', { a: [{ numeric: ['!=', 1] }] }, 'expected operators'],
    ['exists with a string', { a: [{ exists: 'yes' }] }, 'expected true or false'],
    ['consecutive wildcards', { a: [{ wildcard: 'a**' }] }, 'consecutive * are not allowed'],
    ['an IPv6 block', { a: [{ cidr: '2001:db8::/32' }] }, 'expected an IPv4 block'],
  ];
  for (const [name, pattern, message] of invalid) {
    it(`refuses ${name} whatever the event`, () => {
      expect(() => evaluatePattern(pattern as EventPattern, {})).to.throw(EventPatternError, message);
    });
  }
});
