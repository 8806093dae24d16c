//! Backpressure on the client side: a submission the node refuses `429
//! overloaded` is sent again after the node's `Retry-After`, within a
//! patience (ARCHITECTURE.md, decision 39).

use std::time::Duration;

use super::NodeError;

/// How long a submission keeps trying while the node answers `overloaded`
/// (waiting the body's `retry_after_ms` when given, else `Retry-After`).
pub const SUBMIT_PATIENCE: Duration = Duration::from_secs(60);

/// A response's `Retry-After` in whole seconds, if it has one.
pub(super) fn retry_after(resp: &reqwest::blocking::Response) -> Option<Duration> {
    let v = resp.headers().get(reqwest::header::RETRY_AFTER)?;
    let secs: u64 = v.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.clamp(1, 60)))
}

/// Runs `attempt` until it is not refused `overloaded`, waiting (with
/// `sleep`) the `Retry-After` each refusal gave, as long as the next try
/// starts within `patience`; then the last answer.
pub(super) fn honour_retry_after<T>(
    patience: Duration,
    mut sleep: impl FnMut(Duration),
    mut attempt: impl FnMut() -> (Result<T, NodeError>, Option<Duration>),
) -> Result<T, NodeError> {
    let mut waited = Duration::ZERO;
    loop {
        let (answer, after) = attempt();
        match (&answer, after) {
            (Err(e), Some(after))
                if e.code() == Some("overloaded") && waited + after <= patience =>
            {
                eprintln!(
                    "the network is busy (the node asks to wait {:.1} s); sending again then",
                    after.as_secs_f64()
                );
                sleep(after);
                waited += after;
            }
            _ => return answer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy() -> NodeError {
        NodeError::Refused {
            route: "POST /v1/txs".into(),
            status: 429,
            code: "overloaded".into(),
            message: "the network is busy".into(),
            retry_after_ms: Some(1_000),
        }
    }

    #[test]
    fn an_overloaded_node_is_asked_again_after_its_delay() {
        let mut slept = Vec::new();
        let mut tries = 0;
        let got = honour_retry_after(
            Duration::from_secs(60),
            |d| slept.push(d),
            || {
                tries += 1;
                if tries < 3 {
                    (Err(busy()), Some(Duration::from_secs(2)))
                } else {
                    (Ok(7), None)
                }
            },
        );
        assert_eq!(got.ok(), Some(7));
        assert_eq!(slept, vec![Duration::from_secs(2); 2]);
    }

    #[test]
    fn patience_ends_and_other_refusals_are_not_retried() {
        let mut slept = Vec::new();
        let got: Result<u8, _> = honour_retry_after(
            Duration::from_secs(5),
            |d| slept.push(d),
            || (Err(busy()), Some(Duration::from_secs(2))),
        );
        assert_eq!(got.unwrap_err().code(), Some("overloaded"));
        assert_eq!(slept.len(), 2, "2 + 2 s fit in 5 s, a third wait does not");
        let mut tries = 0;
        let quota = NodeError::Refused {
            route: "POST /v1/txs".into(),
            status: 429,
            code: "account_quota".into(),
            message: "x".into(),
            retry_after_ms: None,
        };
        let got: Result<u8, _> = honour_retry_after(
            Duration::from_secs(60),
            |_| panic!("no wait for a refusal that is not overloaded"),
            || {
                tries += 1;
                (Err(quota.clone()), Some(Duration::from_secs(1)))
            },
        );
        assert_eq!(got.unwrap_err().code(), Some("account_quota"));
        assert_eq!(tries, 1);
    }

    #[test]
    fn the_nodes_milliseconds_are_the_wait_within_bounds() {
        let with = |ms| NodeError::Refused {
            route: "POST /v1/txs".into(),
            status: 429,
            code: "overloaded".into(),
            message: "busy".into(),
            retry_after_ms: ms,
        };
        assert_eq!(
            with(Some(150)).retry_after(),
            Some(Duration::from_millis(150))
        );
        assert_eq!(with(Some(1)).retry_after(), Some(Duration::from_millis(50)));
        assert_eq!(
            with(Some(u64::MAX)).retry_after(),
            Some(Duration::from_secs(60))
        );
        assert_eq!(with(None).retry_after(), None);
    }
}
