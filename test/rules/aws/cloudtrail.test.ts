import { call, derive, failed, type DetectorCase, type Json } from './support/records';
import { detectorTable } from './support/table';

const TRAIL = 'arn:aws:cloudtrail:apiso-centralnorth-2r:143434273843:trail/stratus-red-team-ct-stop-trail-buykxbqejv';
const NAME = 'stratus-red-team-ct-stop-trail-buykxbqejv';

/** The stratus StopLogging record turned into another CloudTrail call. */
const ct = (eventName: string, requestParameters: Json | null, responseElements: Json | null = null) => call('stopLogging', 'cloudtrail.amazonaws.com', eventName, requestParameters, responseElements);
const selectors = (eventSelectors: Json[]) => ct('PutEventSelectors', { trailName: NAME, eventSelectors }, { trailARN: TRAIL, eventSelectors });
const advanced = (advancedEventSelectors: Json[]) => ct('PutEventSelectors', { trailName: NAME, advancedEventSelectors }, { trailARN: TRAIL, advancedEventSelectors });

const cases: DetectorCase[] = [
  { name: 'corpus: StopLogging is a finding on the trail', input: () => derive('stopLogging', () => {}), expect: [{ ruleId: 'aws.cloudtrail.logging-stopped', outcome: 'fail', subject: '', severity: 'HIGH', resourceId: TRAIL }] },
  { name: 'failed StopLogging gives nothing', input: () => failed(derive('stopLogging', () => {}), 'TrailNotFoundException'), expect: [] },
  { name: 'StopLogging naming the trail by ARN names the same trail', input: () => derive('stopLogging', (r) => ((r.requestParameters as Json).name = TRAIL)), expect: [{ outcome: 'fail', resourceId: TRAIL }] },
  { name: 'StartLogging is the pass for StopLogging', input: () => derive('stopLogging', (r) => (r.eventName = 'StartLogging')), expect: [{ ruleId: 'aws.cloudtrail.logging-stopped', outcome: 'pass', resourceId: TRAIL }] },
  { name: 'DeleteTrail is a finding', input: () => ct('DeleteTrail', { name: NAME }), expect: [{ ruleId: 'aws.cloudtrail.trail-deleted', outcome: 'fail', resourceId: TRAIL }] },
  { name: 'failed DeleteTrail gives nothing', input: () => failed(ct('DeleteTrail', { name: NAME })), expect: [] },
  { name: 'a DeleteTrail naming no trail gives nothing', input: () => ct('DeleteTrail', {}), expect: [] },
  {
    name: 'UpdateTrail turning off multi-region and validation: two findings',
    input: () => ct('UpdateTrail', { name: NAME, isMultiRegionTrail: false, enableLogFileValidation: false }, { trailARN: TRAIL, isMultiRegionTrail: false, logFileValidationEnabled: false }),
    expect: [
      { ruleId: 'aws.cloudtrail.trail-weakened', outcome: 'fail', subject: 'multi-region', severity: 'MEDIUM' },
      { ruleId: 'aws.cloudtrail.trail-weakened', outcome: 'fail', subject: 'log-file-validation' },
    ],
  },
  { name: 'UpdateTrail turning them on resolves', input: () => ct('UpdateTrail', { name: NAME, isMultiRegionTrail: true, enableLogFileValidation: true }), expect: [{ outcome: 'pass', subject: 'multi-region' }, { outcome: 'pass', subject: 'log-file-validation' }] },
  { name: 'a failed UpdateTrail gives nothing', input: () => failed(ct('UpdateTrail', { name: NAME, isMultiRegionTrail: false })), expect: [] },
  { name: 'UpdateTrail changing only the bucket gives nothing', input: () => ct('UpdateTrail', { name: NAME, s3BucketName: 'other-bucket' }), expect: [] },
  { name: 'UpdateTrail dropping global service events is a finding', input: () => ct('UpdateTrail', { name: NAME, includeGlobalServiceEvents: false }), expect: [{ outcome: 'fail', subject: 'global-service-events' }] },
  {
    name: 'PutEventSelectors with includeManagementEvents false drops management events (HIGH)',
    input: () => selectors([{ readWriteType: 'ReadOnly', includeManagementEvents: false, dataResources: [{ type: 'AWS::S3::Object', values: [] }], excludeManagementEventSources: [] }]),
    expect: [{ ruleId: 'aws.cloudtrail.management-events-dropped', outcome: 'fail', subject: 'management-events', severity: 'HIGH', resourceId: TRAIL }],
  },
  { name: 'PutEventSelectors keeping only read-only management events drops the writes', input: () => selectors([{ readWriteType: 'ReadOnly', includeManagementEvents: true, dataResources: [] }]), expect: [{ outcome: 'fail' }] },
  { name: 'PutEventSelectors with All management events: a pass', input: () => selectors([{ readWriteType: 'All', includeManagementEvents: true, dataResources: [], excludeManagementEventSources: [] }]), expect: [{ outcome: 'pass', subject: 'management-events' }] },
  { name: 'a failed PutEventSelectors gives nothing', input: () => failed(selectors([{ includeManagementEvents: false }])), expect: [] },
  {
    name: 'advanced selectors without a Management category drop management events',
    input: () => advanced([{ name: 'data only', fieldSelectors: [{ field: 'eventCategory', equals: ['Data'] }, { field: 'resources.type', equals: ['AWS::S3::Object'] }] }]),
    expect: [{ outcome: 'fail', subject: 'management-events' }],
  },
  {
    name: 'advanced selectors keeping only read-only management events drop the writes',
    input: () => advanced([{ name: 'mgmt reads', fieldSelectors: [{ field: 'eventCategory', equals: ['Management'] }, { field: 'readOnly', equals: ['true'] }] }]),
    expect: [{ outcome: 'fail' }],
  },
  { name: 'advanced selectors with Management events: a pass', input: () => advanced([{ name: 'mgmt', fieldSelectors: [{ field: 'eventCategory', equals: ['Management'] }] }]), expect: [{ outcome: 'pass' }] },
];

describe('CloudTrail tampering detectors', () => {
  detectorTable(cases);
});
