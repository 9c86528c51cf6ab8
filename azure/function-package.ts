import * as pulumi from '@pulumi/pulumi';
import { deletePackage, diffPackage, entraIdAccess, uploadPackage, type PackageUploadInputs, type PackageUploadOutputs } from './package-upload';

/**
 * The Function App package blob as a Pulumi dynamic resource. azure-native's storage.Blob writes with
 * an account key (pulumi-azure-native#2015), which would keep shared keys on for the package
 * account; this resource writes it with a bearer token (azure/package-upload.ts) instead.
 *
 * The blob name stays fixed: Flex Consumption runs the package named `released-package.zip` in the
 * deployment container and no other, so a content-addressed name would never run. The content hash
 * is the resource's identity instead: a new hash overwrites the blob in place (an update, never a
 * create-then-delete replacement, which would delete the blob it had just written), and the same
 * hash in the app settings restarts the app onto it.
 */

/**
 * The provider Pulumi serialises into the state and runs at deploy time. Each operation builds its
 * own access, so nothing (no credential, no client) is captured at serialisation time.
 */
export const packageUploadProvider: pulumi.dynamic.ResourceProvider<PackageUploadInputs, PackageUploadOutputs> = {
  diff: async (_id, olds, news) => diffPackage(olds, news),
  create: async (inputs) => {
    const outs = await uploadPackage(inputs, entraIdAccess());
    return { id: outs.url, outs };
  },
  update: async (_id, _olds, news) => ({ outs: await uploadPackage(news, entraIdAccess()) }),
  delete: async (_id, props) => deletePackage(props, entraIdAccess()),
};

export interface FunctionPackageArgs {
  /** The package account's blob endpoint (`primaryEndpoints.blob`). */
  serviceUrl: pulumi.Input<string>;
  containerName: pulumi.Input<string>;
  blobName: pulumi.Input<string>;
  directory: string;
  files: readonly string[];
  sha256: string;
}

/** The uploaded package blob (`pulumi-nodejs:dynamic/shipscan:FunctionPackage`, names.ts PACKAGE_UPLOAD_TYPE). */
export class FunctionPackage extends pulumi.dynamic.Resource {
  declare readonly url: pulumi.Output<string>;
  declare readonly sha256: pulumi.Output<string>;
  declare readonly zipSha256: pulumi.Output<string>;
  declare readonly size: pulumi.Output<number>;

  constructor(name: string, args: FunctionPackageArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      packageUploadProvider,
      name,
      {
        serviceUrl: args.serviceUrl,
        containerName: args.containerName,
        blobName: args.blobName,
        directory: args.directory,
        files: [...args.files],
        sha256: args.sha256,
        url: undefined,
        zipSha256: undefined,
        size: undefined,
      },
      opts,
      'shipscan',
      'FunctionPackage',
    );
  }
}
