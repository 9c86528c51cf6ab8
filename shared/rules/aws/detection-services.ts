import type { ActivityDetector } from '../types';
import { arn, bool, fail, field, obj, pass, request, resource, str } from './record';

/**
 * The account's own detection turned off: GuardDuty detectors deleted or suspended, Security Hub disabled,
 * AWS Config recording stopped or its delivery channel deleted. An intruder silences these before acting;
 * turning them back on resolves the finding.
 */

export const guardDutyDisabled: ActivityDetector = {
  id: 'aws.guardduty.detector-disabled',
  title: 'GuardDuty turned off',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'guardduty',
  risk: 'Without a GuardDuty detector the region has no threat detection: credential misuse, crypto-mining and reconnaissance go unreported.',
  remediation: { text: 'Re-enable GuardDuty in the region (or let the organisation administrator enable it) and restrict guardduty:DeleteDetector / UpdateDetector.', url: 'https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_suspend-disable.html' },
  eventSource: 'guardduty.amazonaws.com',
  eventNames: ['DeleteDetector', 'UpdateDetector'],
  match(record, ctx) {
    const detectorId = str(request(record).detectorId);
    if (!detectorId) return [];
    const detector = resource('AWS::GuardDuty::Detector', arn(ctx, 'guardduty', `detector/${detectorId}`), detectorId);
    if (record.eventName === 'DeleteDetector') return [fail(detector, '', { detectorId, deleted: true }, { title: `GuardDuty detector ${detectorId} deleted in ${ctx.region}` })];
    const enable = bool(request(record).enable);
    if (enable === true) return [pass(detector, '', 'detector enabled again')];
    if (enable === false) return [fail(detector, '', { detectorId, enable: false }, { title: `GuardDuty detector ${detectorId} suspended in ${ctx.region}` })];
    return [];
  },
};

export const securityHubDisabled: ActivityDetector = {
  id: 'aws.securityhub.disabled',
  title: 'Security Hub disabled',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'securityhub',
  risk: 'Disabling Security Hub stops its checks and deletes its findings in the region; aggregated alerts from other services stop arriving.',
  remediation: { text: 'Enable Security Hub again in the region and its standards; restrict securityhub:DisableSecurityHub.', url: 'https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_EnableSecurityHub.html' },
  eventSource: 'securityhub.amazonaws.com',
  eventNames: ['DisableSecurityHub', 'EnableSecurityHub'],
  match(record, ctx) {
    // DisableSecurityHub takes no parameters: the hub of the account and region is the resource.
    const hub = resource('AWS::SecurityHub::Hub', arn(ctx, 'securityhub', 'hub/default'), `hub ${ctx.region}`);
    if (record.eventName === 'EnableSecurityHub') return [pass(hub, '', 'Security Hub enabled again')];
    return [fail(hub, '', { region: ctx.region }, { title: `Security Hub disabled in ${ctx.region}` })];
  },
};

export const configRecorderStopped: ActivityDetector = {
  id: 'aws.config.recorder-stopped',
  title: 'AWS Config recording stopped',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'config',
  risk: 'While the configuration recorder is stopped or deleted, resource changes are not recorded and Config rules (and anything built on them) stop evaluating.',
  remediation: { text: 'Start the configuration recorder again (recreate it if it was deleted) and restrict config:StopConfigurationRecorder / DeleteConfigurationRecorder.', url: 'https://docs.aws.amazon.com/config/latest/developerguide/managing-recorder_console-stop.html' },
  eventSource: 'config.amazonaws.com',
  eventNames: ['StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'StartConfigurationRecorder'],
  match(record, ctx) {
    const name = str(request(record).configurationRecorderName);
    if (!name) return [];
    const recorder = resource('AWS::Config::ConfigurationRecorder', arn(ctx, 'config', `configuration-recorder/${name}`), name);
    if (record.eventName === 'StartConfigurationRecorder') return [pass(recorder, '', 'recording started again')];
    const deleted = record.eventName === 'DeleteConfigurationRecorder';
    return [fail(recorder, '', { recorder: name, deleted }, { title: `AWS Config recorder ${name} ${deleted ? 'deleted' : 'stopped'} in ${ctx.region}` })];
  },
};

export const configDeliveryChannelDeleted: ActivityDetector = {
  id: 'aws.config.delivery-channel-deleted',
  title: 'AWS Config delivery channel deleted',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'activity',
  service: 'config',
  risk: 'Without a delivery channel, Config no longer delivers configuration snapshots and history to S3 (or notifications to SNS): the record of changes stops.',
  remediation: { text: 'Recreate the delivery channel (PutDeliveryChannel) to the configured bucket and restrict config:DeleteDeliveryChannel.', url: 'https://docs.aws.amazon.com/config/latest/APIReference/API_PutDeliveryChannel.html' },
  eventSource: 'config.amazonaws.com',
  eventNames: ['DeleteDeliveryChannel', 'PutDeliveryChannel'],
  match(record, ctx) {
    const req = request(record);
    const name = str(req.deliveryChannelName) ?? str(field(obj(req.deliveryChannel), 'name', 'Name'));
    if (!name) return [];
    const channel = resource('AWS::Config::DeliveryChannel', arn(ctx, 'config', `delivery-channel/${name}`), name);
    if (record.eventName === 'PutDeliveryChannel') return [pass(channel, '', 'delivery channel recreated')];
    return [fail(channel, '', { deliveryChannel: name }, { title: `AWS Config delivery channel ${name} deleted in ${ctx.region}` })];
  },
};
