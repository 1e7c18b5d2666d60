/**
 * The bucket policy of the bucket the program creates, as pure data.
 *
 * Source: Amazon S3 user guide, "Security best practices for Amazon S3" (enforce encryption of
 * data in transit: deny any request whose `aws:SecureTransport` condition key is `false`), and
 * AWS Security Hub control S3.5 ("S3 general purpose buckets should require requests to use SSL").
 */

/** An IAM policy statement, as S3 takes it. */
export interface PolicyStatement {
    readonly Sid: string;
    readonly Effect: "Allow" | "Deny";
    readonly Principal: "*";
    readonly Action: string;
    readonly Resource: readonly string[];
    readonly Condition: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** A bucket policy document. */
export interface BucketPolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: readonly PolicyStatement[];
}

/**
 * Denies every S3 action on the bucket and its objects over plain HTTP. Requests over TLS,
 * including the SSM agent's and Distributor's, are unaffected.
 * @param bucketArn e.g. `arn:aws:s3:::my-bucket`.
 */
export function denyInsecureTransportPolicy(bucketArn: string): BucketPolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucketArn, `${bucketArn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        }],
    };
}
