import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { RunDigest } from '../../../shared/findings/digest';
import type { FindingNotice, NotificationChannel } from '../../../shared/findings/notifier';
import { renderDigestSns } from '../../../shared/notify/run-digest';
import { renderSnsMessage, type SnsMessage } from '../../../shared/notify/sns';
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
    await this.publish(renderSnsMessage(notice, this.options.render));
  }

  /** A scheduled run's digest: one message, with `type` ShipscanRunDigest among its attributes. */
  async sendDigest(digest: RunDigest): Promise<void> {
    await this.publish(renderDigestSns(digest, this.options.render?.brand ? { brand: this.options.render.brand } : {}));
  }

  private async publish({ subject, message, attributes }: SnsMessage): Promise<void> {
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
