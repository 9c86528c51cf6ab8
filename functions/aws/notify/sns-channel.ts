import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { FindingNotice, NotificationChannel } from '../../../shared/findings/notifier';
import { renderSnsMessage } from '../../../shared/notify/sns';
import type { ViewOptions } from '../../../shared/notify/notice-view';
import { oneLine, truncate } from '../../../shared/notify/text';

/**
 * Finding notices to the findings SNS topic. Subscribers filter on the message attributes (severity,
 * category, ruleId, cloud, transition, account or subscription, region) with SNS filter policies.
 */

export interface SnsChannelOptions {
  client: SNSClient;
  topicArn: string;
  render?: ViewOptions;
  /** Channel name (default `sns`). */
  name?: string;
}

export class SnsPublishError extends Error {
  override readonly name = 'SnsPublishError';
}

export class SnsChannel implements NotificationChannel {
  readonly name: string;

  constructor(private readonly options: SnsChannelOptions) {
    this.name = options.name ?? 'sns';
  }

  async send(notice: FindingNotice): Promise<void> {
    const { subject, message, attributes } = renderSnsMessage(notice, this.options.render);
    try {
      await this.options.client.send(
        new PublishCommand({
          TopicArn: this.options.topicArn,
          Subject: subject,
          Message: message,
          MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, { DataType: 'String', StringValue: value }])),
        }),
      );
    } catch (error) {
      const e = error as { name?: string; message?: string };
      throw new SnsPublishError(`SNS Publish to ${this.options.topicArn} failed: ${e.name ?? 'Error'}: ${truncate(oneLine(String(e.message ?? error)), 500)}`);
    }
  }
}
