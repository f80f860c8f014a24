//! The AWS managed policies Lambda users attach, with AWS's documents
//! (from AWS's managed policy reference), paths, default versions and
//! creation dates. They are not stored: every account sees them, as on AWS
//! (`arn:aws:iam::aws:policy/…`).

use std::sync::{Arc, OnceLock};

use crate::policy::{PolicyDocument, PolicyKind};
use crate::store::ManagedPolicy;

/// One AWS managed policy.
#[derive(Debug)]
pub struct AwsManaged {
    pub name: &'static str,
    pub path: &'static str,
    pub description: &'static str,
    pub version: &'static str,
    pub create_date: &'static str,
    pub update_date: &'static str,
    pub document: &'static str,
    parsed: OnceLock<Arc<PolicyDocument>>,
}

impl AwsManaged {
    const fn new(
        name: &'static str,
        path: &'static str,
        description: &'static str,
        version: &'static str,
        dates: (&'static str, &'static str),
        document: &'static str,
    ) -> Self {
        Self {
            name,
            path,
            description,
            version,
            create_date: dates.0,
            update_date: dates.1,
            document,
            parsed: OnceLock::new(),
        }
    }

    pub fn arn(&self) -> String {
        format!("arn:aws:iam::aws:policy{}{}", self.path, self.name)
    }

    /// The document, parsed once.
    pub fn parsed(&self) -> Arc<PolicyDocument> {
        self.parsed
            .get_or_init(|| {
                Arc::new(PolicyDocument::parse(self.document, PolicyKind::Identity).expect("AWS's documents parse"))
            })
            .clone()
    }

    pub fn policy(&self) -> ManagedPolicy {
        ManagedPolicy {
            arn: self.arn(),
            name: self.name.to_owned(),
            policy_id: crate::store::stable_id("ANPA", self.name),
            path: self.path.to_owned(),
            description: Some(self.description.to_owned()),
            default_version_id: self.version.to_owned(),
            attachment_count: 0,
            create_date: self.create_date.to_owned(),
            update_date: self.update_date.to_owned(),
        }
    }
}

const LOGS_BASIC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#;

pub static ALL: [AwsManaged; 12] = [
    AwsManaged::new(
        "AdministratorAccess",
        "/",
        "Provides full access to AWS services and resources.",
        "v1",
        ("2015-02-06T18:39:46Z", "2015-02-06T18:39:46Z"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    AwsManaged::new(
        "AWSLambdaBasicExecutionRole",
        "/service-role/",
        "Provides write permissions to CloudWatch Logs.",
        "v1",
        ("2015-04-09T15:03:43Z", "2015-04-09T15:03:43Z"),
        LOGS_BASIC,
    ),
    AwsManaged::new(
        "AWSLambdaRole",
        "/service-role/",
        "Default policy for AWS Lambda service role.",
        "v1",
        ("2015-02-06T18:41:28Z", "2015-02-06T18:41:28Z"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["*"]}]}"#,
    ),
    AwsManaged::new(
        "AWSLambdaExecute",
        "/",
        "Provides Put, Get access to S3 and full access to CloudWatch Logs.",
        "v1",
        ("2015-02-06T18:40:46Z", "2015-02-06T18:40:46Z"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:*"],"Resource":"arn:aws:logs:*:*:*"},{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::*"}]}"#,
    ),
    AwsManaged::new(
        "AWSLambdaVPCAccessExecutionRole",
        "/service-role/",
        "Provides minimum permissions for a Lambda function to execute while accessing a resource within a VPC - create, describe, delete network interfaces and write permissions to CloudWatch Logs.",
        "v3",
        ("2016-02-11T23:15:26Z", "2024-01-05T22:37:50Z"),
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"AWSLambdaVPCAccessExecutionPermissions","Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents","ec2:CreateNetworkInterface","ec2:DescribeNetworkInterfaces","ec2:DescribeSubnets","ec2:DeleteNetworkInterface","ec2:AssignPrivateIpAddresses","ec2:UnassignPrivateIpAddresses"],"Resource":"*"}]}"#,
    ),
    AwsManaged::new(
        "AWSLambdaSQSQueueExecutionRole",
        "/service-role/",
        "Provides receive message, delete message, and read attribute access to SQS queues, and write permissions to CloudWatch logs.",
        "v2",
        ("2016-11-21T19:57:33Z", "2024-01-05T22:37:50Z"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    ),
    AwsManaged::new(
        "AWSLambdaDynamoDBExecutionRole",
        "/service-role/",
        "Provides list and read access to DynamoDB streams and write permissions to CloudWatch logs.",
        "v1",
        ("2015-04-09T15:09:29Z", "2015-04-09T15:09:29Z"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:DescribeStream","dynamodb:GetRecords","dynamodb:GetShardIterator","dynamodb:ListStreams","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    ),
    AwsManaged::new(
        "AWSLambda_FullAccess",
        "/",
        "Grants full access to AWS Lambda service, AWS Lambda console features, and other related AWS services.",
        "v2",
        ("2020-11-17T21:14:58Z", "2025-03-17T21:37:06Z"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudformation:DescribeStacks","cloudformation:ListStackResources","cloudwatch:ListMetrics","cloudwatch:GetMetricData","ec2:DescribeSecurityGroups","ec2:DescribeSubnets","ec2:DescribeVpcs","kms:ListAliases","iam:GetPolicy","iam:GetPolicyVersion","iam:GetRole","iam:GetRolePolicy","iam:ListAttachedRolePolicies","iam:ListRolePolicies","iam:ListRoles","lambda:*","logs:DescribeLogGroups","states:DescribeStateMachine","states:ListStateMachines","tag:GetResources","xray:GetTraceSummaries","xray:BatchGetTraces"],"Resource":"*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}},{"Effect":"Allow","Action":["logs:DescribeLogStreams","logs:GetLogEvents","logs:FilterLogEvents","logs:StartLiveTail","logs:StopLiveTail"],"Resource":"arn:aws:logs:*:*:log-group:/aws/lambda/*"}]}"#,
    ),
    AwsManaged::new(
        "AmazonS3ReadOnlyAccess",
        "/",
        "Provides read only access to all buckets via the AWS Management Console.",
        "v3",
        ("2015-02-06T18:40:59Z", "2023-08-10T21:31:39Z"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#,
    ),
    AwsManaged::new(
        "AmazonS3FullAccess",
        "/",
        "Provides full access to all buckets via the AWS Management Console.",
        "v2",
        ("2015-02-06T18:40:58Z", "2021-09-27T20:16:37Z"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}"#,
    ),
    AwsManaged::new(
        "CloudWatchLogsFullAccess",
        "/",
        "Provides full access to CloudWatch Logs",
        "v1",
        ("2015-02-06T18:40:02Z", "2015-02-06T18:40:02Z"),
        r#"{"Version":"2012-10-17","Statement":[{"Action":["logs:*"],"Effect":"Allow","Resource":"*"}]}"#,
    ),
    AwsManaged::new(
        "IAMFullAccess",
        "/",
        "Provides full access to IAM via the AWS Management Console.",
        "v2",
        ("2015-02-06T18:40:38Z", "2019-06-21T19:40:00Z"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}"#,
    ),
];

/// The AWS managed policy an ARN names.
pub fn by_arn(arn: &str) -> Option<&'static AwsManaged> {
    let rest = arn.strip_prefix("arn:aws:iam::aws:policy")?;
    ALL.iter().find(|p| rest.strip_prefix(p.path) == Some(p.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_parses_and_is_found_by_arn() {
        for p in &ALL {
            assert!(!p.parsed().statements.is_empty(), "{}", p.name);
            assert_eq!(by_arn(&p.arn()).map(|q| q.name), Some(p.name));
        }
        assert!(by_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole").is_some());
        assert!(by_arn("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole").is_none());
    }
}
