//! GetAccountSettings.

use axum::Json;
use axum::extract::State;
use lambdabox_proto::control::{AccountLimit, AccountUsage, GetAccountSettingsResponse};

use crate::{ApiError, AppState};

pub async fn settings(State(state): State<AppState>) -> Result<Json<GetAccountSettingsResponse>, ApiError> {
    let s = state.invoker.control().account_settings().await?;
    Ok(Json(GetAccountSettingsResponse {
        account_limit: AccountLimit {
            total_code_size: s.total_code_size,
            code_size_unzipped: s.code_size_unzipped,
            code_size_zipped: s.code_size_zipped,
            concurrent_executions: s.concurrent_executions,
            unreserved_concurrent_executions: s.unreserved_concurrent_executions,
        },
        account_usage: AccountUsage {
            total_code_size: s.usage.total_code_size,
            function_count: s.usage.function_count,
        },
    }))
}
