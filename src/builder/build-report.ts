// The build report, in werf's JSON shape (`--save-build-report`), so tools that read
// werf's report read Slipway's, and `export --use-build-report` can skip the build.

import { formatPlatform } from '../oci/index.js';
import type { BuildResult, BuiltImage } from './build-images.js';

export interface ReportImage {
  WerfImageName: string;
  DockerRepo: string;
  DockerTag: string;
  DockerImageName: string;
  DockerImageID: string;
  DockerImageDigest: string;
  Final: boolean;
  Rebuilt: boolean;
  Size: number;
  /** Empty for a multi-platform image (werf's rule). */
  TargetPlatform: string;
  Stages: { Name: string; Tag: string; Reused: boolean }[];
}

export interface BuildReport {
  Images: Record<string, ReportImage>;
  ImagesByPlatform: Record<string, Record<string, ReportImage>>;
}

function reportImage(image: BuiltImage): ReportImage {
  const single = image.platforms.length === 1 ? image.platforms[0]! : undefined;
  return {
    WerfImageName: image.name,
    DockerRepo: image.repository,
    DockerTag: image.tag,
    DockerImageName: `${image.repository}:${image.tag}`,
    DockerImageID: image.configDigest ?? '',
    DockerImageDigest: image.digest,
    Final: image.final,
    Rebuilt: !image.reused,
    Size: image.platforms.reduce((sum, p) => sum + p.size, 0),
    TargetPlatform: single ? formatPlatform(single.platform) : '',
    Stages: image.platforms.flatMap((p) => p.stages.map((s) => ({ Name: s.name, Tag: s.tag, Reused: s.reused }))),
  };
}

export function buildReport(result: BuildResult): BuildReport {
  const report: BuildReport = { Images: {}, ImagesByPlatform: {} };
  for (const image of result.images) {
    report.Images[image.name] = reportImage(image);
    if (image.platforms.length > 1) {
      report.ImagesByPlatform[image.name] = Object.fromEntries(image.platforms.map((p) => [formatPlatform(p.platform), {
        ...reportImage({ ...image, platforms: [p], tag: p.stage.tag, digest: p.manifestDigest, configDigest: p.configDigest, reused: p.built === 0 }),
      }]));
    }
  }
  return report;
}
