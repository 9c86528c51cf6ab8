/**
 * The `npm start` demo: what a team shipping on both clouds produces in a few minutes, built from
 * the published samples (local/corpus) as clearly named variants. Container deployments arrive as
 * the system topic sends them (one in the Event Grid schema, one as a CloudEvent); Lambda
 * deployments as EventBridge envelopes around CloudTrail records; an image pushed to the registry as its
 * system topic sends it; the zip deployment is delivered twice, as at-least-once delivery does. A security
 * group opened to the internet for SSH follows: an AWS security event, which becomes a finding and an email.
 * Azure security events are the ready examples in local/examples/ (an NSG opening SSH, a storage account
 * allowing public blobs, an Owner assignment), the NSG write delivered twice: one finding and one email each,
 * whatever the redelivery.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadCorpus } from '../corpus';
import { imagePushEvent, registryId } from './artifact-events';
import { containerAppVariant, containerGroupVariant, deploymentEventVariant, resourceId, type Kind } from '../arm-stub/variants';
import type { StubFunctionSpec } from '../lambda-api-stub';
import { objectCreatedEvent, putObjectSample, s3CloudTrailEnvelope, s3WriteRecordVariant, type ObjectEventTarget } from './objects';
import { cloudTrailEnvelope } from '../start/kinds/aws-routing';

export const DEMO_SUBSCRIPTION = '6b1f5a2e-1c7d-4a51-9f3e-2d8c0a7b9e41';
export const DEMO_RESOURCE_GROUP = 'rg-shop-prod';
export const DEMO_ACCOUNT = '123456789012';
export const DEMO_REGION = 'us-east-1';
/** A second account of the organisation (the demo's object copy lives there). */
export const DEMO_PARTNER_ACCOUNT = '210987654321';

type Json = Record<string, unknown>;

export interface ContainerWorkload {
  kind: Kind;
  /** ARM GET body the ARM stub serves. */
  resource: { id: string } & Json;
}

/** An object the demo uploads before the events announcing it replay (its bytes: local/demo/objects.ts). */
export interface DemoObject {
  bucket: string;
  key: string;
  content: 'release-archive';
}

export interface DemoScenario {
  containers: ContainerWorkload[];
  functions: StubFunctionSpec[];
  objects: DemoObject[];
  /** ARM GET bodies the security rules read (NSG, storage account, role assignment). */
  armResources: ({ id: string } & Json)[];
  /** In delivery order; Azure events go to the `deployments` or `image-pushes` queue, AWS events to the scan queue. */
  events: { cloud: 'azure' | 'aws'; label: string; event: unknown }[];
}

const EVENT_GRID_SAMPLE = 'azure/eventgrid-resourcewritesuccess-storage.azuredocs.json';
const CLOUD_EVENTS_SAMPLE = 'azure/cloudevents-resourcewritesuccess-storage.azuredocs-de.json';

/** A container group or app from the ARM samples, running `images`, and the event announcing its write. */
export function containerDeployment(
  kind: Kind,
  name: string,
  images: string[],
  options: { initImages?: string[]; schema?: 'eventgrid' | 'cloudevents'; subscription?: string; resourceGroup?: string } = {},
): { workload: ContainerWorkload; event: unknown } {
  const id = resourceId(kind, options.subscription ?? DEMO_SUBSCRIPTION, options.resourceGroup ?? DEMO_RESOURCE_GROUP, name);
  const resource =
    kind === 'ACI'
      ? containerGroupVariant(loadCorpus<Json>('arm/aci-containergroup-get.json'), { id, images, initImages: options.initImages })
      : containerAppVariant(loadCorpus<Json>('arm/aca-containerapp-get.json'), { id, images, initImages: options.initImages });
  const sample = loadCorpus(options.schema === 'cloudevents' ? CLOUD_EVENTS_SAMPLE : EVENT_GRID_SAMPLE);
  const event = deploymentEventVariant(sample, { kind, resourceUri: id, correlationId: randomUUID(), eventId: randomUUID() });
  return { workload: { kind, resource: resource as { id: string } & Json }, event };
}

/** The EventBridge envelope CloudTrail events arrive in ("AWS API Call via CloudTrail"). */
export function eventBridgeEnvelope(record: Json, id: string = randomUUID()): Json {
  return {
    version: '0',
    id,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.lambda',
    account: record.recipientAccountId,
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: record,
  };
}

/**
 * A published Lambda CloudTrail record re-pointed at another function (name, account, region,
 * package type), keeping everything else as CloudTrail wrote it.
 */
export function lambdaRecordVariant(
  sample: Json,
  v: { name: string; account: string; region: string; packageType?: 'Zip' | 'Image'; codeSha256?: string; imageUri?: string },
): Json {
  const record = structuredClone(sample);
  const arn = `arn:aws:lambda:${v.region}:${v.account}:function:${v.name}`;
  record.recipientAccountId = v.account;
  record.awsRegion = v.region;
  record.eventID = randomUUID();
  record.eventTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const identity = record.userIdentity as Json | undefined;
  if (identity) {
    identity.accountId = v.account;
    identity.arn = `arn:aws:iam::${v.account}:user/deployer`;
  }
  const request = record.requestParameters as Json;
  request.functionName = String(request.functionName ?? '').startsWith('arn:') ? arn : v.name;
  if (v.packageType === 'Image') request.code = { imageUri: v.imageUri };
  const response = record.responseElements as Json;
  response.functionName = v.name;
  response.functionArn = arn;
  response.packageType = v.packageType ?? 'Zip';
  if (v.codeSha256) response.codeSha256 = v.codeSha256;
  return record;
}

/** The published AuthorizeSecurityGroupIngress record (SSH from the whole internet) in another account and region, now. */
export function securityGroupIngressVariant(sample: Json, v: { account: string; region: string; groupId: string }): Json {
  const record = structuredClone(sample);
  record.recipientAccountId = v.account;
  record.awsRegion = v.region;
  record.eventID = randomUUID();
  record.eventTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const identity = record.userIdentity as Json | undefined;
  if (identity) {
    identity.accountId = v.account;
    identity.arn = `arn:aws:iam::${v.account}:user/deployer`;
    identity.userName = 'deployer';
  }
  const request = record.requestParameters as Json;
  request.groupId = v.groupId;
  const rules = ((record.responseElements as Json | null)?.securityGroupRuleSet as { items?: Json[] } | undefined)?.items ?? [];
  for (const rule of rules) {
    rule.groupId = v.groupId;
    rule.groupOwnerId = v.account;
  }
  return record;
}

function codeSha256Of(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/** The ready security examples (local/examples/), each an ARM event beside its resource's GET body in arm/. */
const SECURITY_EXAMPLES = [
  { name: 'nsg-open-ssh', schema: 'eventgrid', label: 'NSG write opening SSH to the internet (Event Grid schema)' },
  { name: 'storage-public-blob', schema: 'cloudevents', label: 'storage account write allowing public blob access (CloudEvents 1.0)' },
  { name: 'role-assignment-owner', schema: 'eventgrid', label: 'Owner assigned at subscription scope (Event Grid schema)' },
] as const;

const EXAMPLES_DIR = path.resolve(__dirname, '..', 'examples');

function readExample<T>(relative: string): T {
  return JSON.parse(readFileSync(path.join(EXAMPLES_DIR, relative), 'utf8')) as T;
}

/** The security examples as demo events (the NSG write delivered twice: one finding, one email) and their resources. */
export function securityExamples(): { events: DemoScenario['events']; armResources: DemoScenario['armResources'] } {
  const events: DemoScenario['events'] = SECURITY_EXAMPLES.map((example) => ({
    cloud: 'azure' as const,
    label: example.label,
    event: readExample<unknown[]>(`${example.name}.${example.schema}.json`)[0],
  }));
  events.push({ cloud: 'azure', label: 'the NSG write delivered again', event: events[0]!.event });
  return { events, armResources: SECURITY_EXAMPLES.map((example) => readExample<{ id: string } & Json>(`arm/${example.name}.json`)) };
}

export function buildDemoScenario(): DemoScenario {
  const aci = containerDeployment('ACI', 'orders-aci', ['nginx', 'shipscandemo.azurecr.io/shop/orders-api:1.4.2']);
  const aca = containerDeployment('ACA', 'web-aca', ['repo/testcontainerapp0:v4'], {
    initImages: ['shipscandemo.azurecr.io/shop/web-frontend:2.0.0'],
    schema: 'cloudevents',
  });

  const zipSha = codeSha256Of('orders-api v1.8.0');
  const zip: StubFunctionSpec = { name: 'orders-api', account: DEMO_ACCOUNT, region: DEMO_REGION, packageType: 'Zip', runtime: 'nodejs22.x', codeSha256: zipSha, pendingReads: 1 };
  const imageRepo = `${DEMO_ACCOUNT}.dkr.ecr.${DEMO_REGION}.amazonaws.com/payments-distroless`;
  const digest = `sha256:${createHash('sha256').update('payments-distroless 3.1.0').digest('hex')}`;
  const image: StubFunctionSpec = {
    name: 'payments-distroless',
    account: DEMO_ACCOUNT,
    region: DEMO_REGION,
    packageType: 'Image',
    imageUri: `${imageRepo}:3.1.0`,
    resolvedImageUri: `${imageRepo}@${digest}`,
  };
  const createZip = eventBridgeEnvelope(
    lambdaRecordVariant(loadCorpus<Json>('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json'), {
      name: zip.name,
      account: DEMO_ACCOUNT,
      region: DEMO_REGION,
      codeSha256: zipSha,
    }),
  );
  const updateImage = eventBridgeEnvelope(
    lambdaRecordVariant(loadCorpus<Json[]>('aws/cloudtrail-raw-lambda-UpdateFunctionCode20150331v2.stratus.json')[0]!, {
      name: image.name,
      account: DEMO_ACCOUNT,
      region: DEMO_REGION,
      packageType: 'Image',
      imageUri: image.imageUri,
    }),
  );
  // An image pushed before anything deploys it: scanned by its digest, as the registry's system topic announces it.
  const push = imagePushEvent({
    registryId: registryId(DEMO_SUBSCRIPTION, DEMO_RESOURCE_GROUP, 'shipscandemo'),
    host: 'shipscandemo.azurecr.io',
    repository: 'shop/checkout',
    tag: '2.1.0',
    digest: `sha256:${createHash('sha256').update('shop/checkout 2.1.0').digest('hex')}`,
  });
  // A release archive uploaded by the team, and the same bytes dropped for a partner in another account: one scan.
  const release: ObjectEventTarget = { account: DEMO_ACCOUNT, region: DEMO_REGION, bucket: 'shop-releases', key: 'shop-api/shop-api-1.4.2.tar.gz' };
  const partnerCopy: ObjectEventTarget = { account: DEMO_PARTNER_ACCOUNT, region: DEMO_REGION, bucket: 'partner-drop', key: 'incoming/shop api 1.4.2.tar.gz' };
  const openSsh = cloudTrailEnvelope(
    securityGroupIngressVariant(loadCorpus<Json[]>('aws/cloudtrail-raw-AuthorizeSecurityGroupIngress.stratus.json')[0]!, {
      account: DEMO_ACCOUNT,
      region: DEMO_REGION,
      groupId: 'sg-0a1b2c3d4e5f60718',
    }),
  );
  const security = securityExamples();
  return {
    containers: [aci.workload, aca.workload],
    functions: [zip, image],
    objects: [
      { bucket: release.bucket, key: release.key, content: 'release-archive' },
      { bucket: partnerCopy.bucket, key: partnerCopy.key, content: 'release-archive' },
    ],
    armResources: security.armResources,
    events: [
      { cloud: 'azure', label: 'ACI container group write (Event Grid schema)', event: aci.event },
      { cloud: 'azure', label: 'ACA container app write (CloudEvents 1.0)', event: aca.event },
      { cloud: 'azure', label: 'ACR image push (Event Grid schema)', event: push },
      { cloud: 'aws', label: 'Lambda CreateFunction, zip (EventBridge)', event: createZip },
      { cloud: 'aws', label: 'Lambda UpdateFunctionCode, container image (EventBridge)', event: updateImage },
      { cloud: 'aws', label: 'the CreateFunction event delivered again', event: createZip },
      { cloud: 'aws', label: 'S3 PutObject of a release archive (CloudTrail data event, EventBridge)', event: s3CloudTrailEnvelope(s3WriteRecordVariant(putObjectSample(), release)) },
      { cloud: 'aws', label: 'the same archive in another account (S3 Object Created)', event: objectCreatedEvent(partnerCopy) },
      { cloud: 'aws', label: 'EC2 AuthorizeSecurityGroupIngress: SSH open to the internet (EventBridge)', event: openSsh },
      ...security.events,
    ],
  };
}
