/**
 * The embedded stack `npm start` runs: the Azure half (Azurite, ARM stub, Qualys simulator, Function
 * App handlers) and/or the AWS half (dynalite, s3rver, Lambda API stub, fake qscanner, scanner
 * handler), started together and stopped together, and a reader for what they stored.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { s3ClientOptions } from '../emulators/s3rver';
import { startLocalAwsStack, type LocalAwsStack } from '../stack/aws-stack';
import { startLocalAzureStack, type LocalAzureStack, type LocalAzureStackOptions } from '../stack/azure-stack';
import type { Progress } from './kinds/kind';

export interface EmbeddedStack {
  azure?: LocalAzureStack;
  aws?: LocalAwsStack;
  /** Azure workloads already defined in the ARM stub (lower-case ids). */
  knownWorkloads: Set<string>;
  /** The text stored at `s3://bucket/key` or `blob://container/path`, undefined when it is not there. */
  readStored(uri: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

export interface EmbeddedStackOptions {
  /** The Azure inventory over a Resource Graph simulator (`--inventory`). */
  azureInventory?: LocalAzureStackOptions['inventory'];
}

export async function startEmbeddedStack(clouds: { azure: boolean; aws: boolean }, progress: Progress, options: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const stack: EmbeddedStack = {
    knownWorkloads: new Set(),
    async readStored(uri) {
      const match = /^(s3|blob):\/\/([^/]+)\/(.+)$/.exec(uri);
      if (!match) return undefined;
      // The pattern's three groups always match when the whole does.
      const [, scheme, container, key] = match as unknown as [string, 's3' | 'blob', string, string];
      try {
        if (scheme === 's3' && stack.aws) {
          const s3 = new S3Client(s3ClientOptions(stack.aws.s3Endpoint));
          try {
            return await (await s3.send(new GetObjectCommand({ Bucket: container, Key: key }))).Body?.transformToString();
          } finally {
            s3.destroy();
          }
        }
        if (scheme === 'blob' && stack.azure) {
          const blob = BlobServiceClient.fromConnectionString(stack.azure.azurite.connectionString).getContainerClient(container).getBlobClient(key);
          return (await blob.downloadToBuffer()).toString('utf8');
        }
      } catch {
        return undefined;
      }
      return undefined;
    },
    async stop() {
      await Promise.all([stack.azure?.stop(), stack.aws?.stop()]);
    },
  };
  try {
    await Promise.all([
      clouds.azure &&
        startLocalAzureStack(options.azureInventory ? { inventory: options.azureInventory } : {}).then((azure) => {
          stack.azure = azure;
          progress(`azure: Azurite ${azure.azurite.blobEndpoint}, ARM stub ${azure.arm.endpoint}, Qualys CS API simulator ${azure.sim.url}; Function App handlers on the queue pump`);
        }),
      clouds.aws &&
        startLocalAwsStack().then((aws) => {
          stack.aws = aws;
          progress(`aws: dynalite ${aws.dynamoEndpoint}, s3rver ${aws.s3Endpoint}, Lambda API stub ${aws.lambda.endpoint}, fake qscanner; scanner handler ready`);
        }),
    ]);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}
