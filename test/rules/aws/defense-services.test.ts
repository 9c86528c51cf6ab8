import { call, failed, type DetectorCase, type Json } from './support/records';
import { detectorTable } from './support/table';

/**
 * KMS, GuardDuty, Security Hub, Config and VPC flow logs: no corpus sample exists for these calls, so each
 * is the stratus StopLogging record (IAMUser, account 143434273843, region apiso-centralnorth-2r) turned into
 * the call, with the request shapes wave2.md section A gives.
 */
const as = (source: string) => (eventName: string, requestParameters: Json | null, responseElements: Json | null = null) => call('stopLogging', `${source}.amazonaws.com`, eventName, requestParameters, responseElements);
const kms = as('kms');
const guardduty = as('guardduty');
const securityhub = as('securityhub');
const config = as('config');
const ec2 = as('ec2');

const WHERE = 'apiso-centralnorth-2r:143434273843';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY = `arn:aws:kms:${WHERE}:key/${KEY_ID}`;

const kmsCases: DetectorCase[] = [
  { name: 'ScheduleKeyDeletion is HIGH on the key', input: () => kms('ScheduleKeyDeletion', { keyId: KEY_ID, pendingWindowInDays: 7 }, { keyId: KEY, deletionDate: 'Aug 8, 2024, 12:00:00 AM', keyState: 'PendingDeletion' }), expect: [{ ruleId: 'aws.kms.key-deletion-scheduled', outcome: 'fail', severity: 'HIGH', resourceId: KEY }] },
  { name: "the record's resources list names the key when the response does not", input: () => Object.assign(kms('ScheduleKeyDeletion', { keyId: 'alias/app' }), { resources: [{ accountId: '143434273843', type: 'AWS::KMS::Key', ARN: KEY }] }), expect: [{ outcome: 'fail', resourceId: KEY }] },
  { name: 'an alias alone does not name a key: nothing', input: () => kms('ScheduleKeyDeletion', { keyId: 'alias/app' }), expect: [] },
  { name: 'a failed ScheduleKeyDeletion gives nothing', input: () => failed(kms('ScheduleKeyDeletion', { keyId: KEY_ID })), expect: [] },
  { name: 'CancelKeyDeletion resolves', input: () => kms('CancelKeyDeletion', { keyId: KEY_ID }, { keyId: KEY }), expect: [{ ruleId: 'aws.kms.key-deletion-scheduled', outcome: 'pass', resourceId: KEY }] },
  { name: 'DisableKey is MEDIUM', input: () => kms('DisableKey', { keyId: KEY_ID }), expect: [{ ruleId: 'aws.kms.key-disabled', outcome: 'fail', severity: 'MEDIUM', resourceId: KEY }] },
  { name: 'a failed DisableKey gives nothing', input: () => failed(kms('DisableKey', { keyId: KEY_ID })), expect: [] },
  { name: 'EnableKey resolves', input: () => kms('EnableKey', { keyId: KEY }), expect: [{ ruleId: 'aws.kms.key-disabled', outcome: 'pass', resourceId: KEY }] },
];

const DETECTOR = `arn:aws:guardduty:${WHERE}:detector/12abc34d567e8fa901bc2d34e56789f0`;

const detectionCases: DetectorCase[] = [
  { name: 'GuardDuty DeleteDetector is HIGH', input: () => guardduty('DeleteDetector', { detectorId: '12abc34d567e8fa901bc2d34e56789f0' }), expect: [{ ruleId: 'aws.guardduty.detector-disabled', outcome: 'fail', severity: 'HIGH', resourceId: DETECTOR }] },
  { name: 'GuardDuty UpdateDetector enable false is a finding', input: () => guardduty('UpdateDetector', { detectorId: '12abc34d567e8fa901bc2d34e56789f0', enable: false }), expect: [{ outcome: 'fail', resourceId: DETECTOR }] },
  { name: 'GuardDuty UpdateDetector enable true resolves', input: () => guardduty('UpdateDetector', { detectorId: '12abc34d567e8fa901bc2d34e56789f0', enable: true }), expect: [{ outcome: 'pass' }] },
  { name: 'GuardDuty UpdateDetector changing only the frequency gives nothing', input: () => guardduty('UpdateDetector', { detectorId: '12abc34d567e8fa901bc2d34e56789f0', findingPublishingFrequency: 'SIX_HOURS' }), expect: [] },
  { name: 'a failed DeleteDetector gives nothing', input: () => failed(guardduty('DeleteDetector', { detectorId: '12abc34d567e8fa901bc2d34e56789f0' })), expect: [] },
  { name: 'DisableSecurityHub is HIGH on the region hub', input: () => securityhub('DisableSecurityHub', null), expect: [{ ruleId: 'aws.securityhub.disabled', outcome: 'fail', resourceId: `arn:aws:securityhub:${WHERE}:hub/default` }] },
  { name: 'a failed DisableSecurityHub gives nothing', input: () => failed(securityhub('DisableSecurityHub', null)), expect: [] },
  { name: 'EnableSecurityHub resolves', input: () => securityhub('EnableSecurityHub', { enableDefaultStandards: true }), expect: [{ ruleId: 'aws.securityhub.disabled', outcome: 'pass' }] },
  { name: 'StopConfigurationRecorder is HIGH', input: () => config('StopConfigurationRecorder', { configurationRecorderName: 'default' }), expect: [{ ruleId: 'aws.config.recorder-stopped', outcome: 'fail', severity: 'HIGH', resourceId: `arn:aws:config:${WHERE}:configuration-recorder/default` }] },
  { name: 'DeleteConfigurationRecorder is the same finding', input: () => config('DeleteConfigurationRecorder', { configurationRecorderName: 'default' }), expect: [{ ruleId: 'aws.config.recorder-stopped', outcome: 'fail' }] },
  { name: 'StartConfigurationRecorder resolves', input: () => config('StartConfigurationRecorder', { configurationRecorderName: 'default' }), expect: [{ ruleId: 'aws.config.recorder-stopped', outcome: 'pass' }] },
  { name: 'a failed StopConfigurationRecorder gives nothing', input: () => failed(config('StopConfigurationRecorder', { configurationRecorderName: 'default' })), expect: [] },
  { name: 'DeleteDeliveryChannel is MEDIUM', input: () => config('DeleteDeliveryChannel', { deliveryChannelName: 'default' }), expect: [{ ruleId: 'aws.config.delivery-channel-deleted', outcome: 'fail', severity: 'MEDIUM' }] },
  { name: 'a failed DeleteDeliveryChannel gives nothing (the recorder was still running)', input: () => failed(config('DeleteDeliveryChannel', { deliveryChannelName: 'default' }), 'LastDeliveryChannelDeleteFailedException'), expect: [] },
  { name: 'PutDeliveryChannel of that name resolves', input: () => config('PutDeliveryChannel', { deliveryChannel: { name: 'default', s3BucketName: 'config-bucket' } }), expect: [{ ruleId: 'aws.config.delivery-channel-deleted', outcome: 'pass' }] },
];

const flowLogCases: DetectorCase[] = [
  {
    name: 'DeleteFlowLogs (single id, { content, tag }) is MEDIUM on the flow log',
    input: () => ec2('DeleteFlowLogs', { DeleteFlowLogsRequest: { FlowLogId: { content: 'fl-0e17aa62a21d4bbfe', tag: 1 } } }, { DeleteFlowLogsResponse: { requestId: 'r', unsuccessful: '', xmlns: 'http://ec2.amazonaws.com/doc/2016-11-15/' } }),
    expect: [{ ruleId: 'aws.ec2.flow-logs-deleted', outcome: 'fail', severity: 'MEDIUM', resourceId: `arn:aws:ec2:${WHERE}:vpc-flow-log/fl-0e17aa62a21d4bbfe` }],
  },
  {
    name: 'DeleteFlowLogs with several ids: one finding each',
    input: () => ec2('DeleteFlowLogs', { DeleteFlowLogsRequest: { FlowLogId: [{ content: 'fl-01', tag: 1 }, { content: 'fl-02', tag: 2 }] } }, { DeleteFlowLogsResponse: { unsuccessful: '' } }),
    expect: [{ outcome: 'fail', resourceId: `arn:aws:ec2:${WHERE}:vpc-flow-log/fl-01` }, { outcome: 'fail', resourceId: `arn:aws:ec2:${WHERE}:vpc-flow-log/fl-02` }],
  },
  { name: 'several ids in one content list', input: () => ec2('DeleteFlowLogs', { DeleteFlowLogsRequest: { FlowLogId: { content: ['fl-0a', 'fl-0b'] } } }), expect: [{ outcome: 'fail' }, { outcome: 'fail' }] },
  {
    name: 'ids the response lists as unsuccessful were not deleted',
    input: () => ec2('DeleteFlowLogs', { DeleteFlowLogsRequest: { FlowLogId: [{ content: 'fl-01' }, { content: 'fl-02' }] } }, { DeleteFlowLogsResponse: { unsuccessful: { item: { resourceId: 'fl-02', error: { code: 'InvalidFlowLogId.NotFound' } } } } }),
    expect: [{ outcome: 'fail', resourceId: `arn:aws:ec2:${WHERE}:vpc-flow-log/fl-01` }],
  },
  {
    name: 'a DeleteFlowLogs whose every id was unsuccessful gives nothing',
    input: () => ec2('DeleteFlowLogs', { DeleteFlowLogsRequest: { FlowLogId: { content: 'fl-01', tag: 1 } } }, { DeleteFlowLogsResponse: { unsuccessful: { item: { resourceId: 'fl-01', error: { code: 'InvalidFlowLogId.NotFound' } } } } }),
    expect: [],
  },
  { name: 'a failed DeleteFlowLogs gives nothing', input: () => failed(ec2('DeleteFlowLogs', { DeleteFlowLogsRequest: { FlowLogId: { content: 'fl-01', tag: 1 } } })), expect: [] },
];

describe('KMS, detection services and flow logs', () => {
  describe('aws.kms.*', () => detectorTable(kmsCases));
  describe('aws.guardduty / securityhub / config', () => detectorTable(detectionCases));
  describe('aws.ec2.flow-logs-deleted', () => detectorTable(flowLogCases));
});
