-- GitHub's rate limit of each installation, shared by the replicas (issue 19): the last
-- `x-ratelimit-remaining` and `x-ratelimit-reset` (Unix seconds) GitHub answered any of them,
-- less the requests taken from it since. A replica takes one request from it before each
-- call made as the installation, and waits for the reset when it is down to the reserve.
CREATE TABLE rate_limits (
    installation_id BIGINT PRIMARY KEY,
    remaining BIGINT NOT NULL,
    reset_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
