"""Wait until the database in MLFLOW_BACKEND_STORE_URI accepts connections (init container of the migration Job).

Runs in the MLflow image, with its SQLAlchemy and driver, so it connects exactly as MLflow will.
Gives up after MLFLOW_DB_WAIT_TIMEOUT seconds. Never prints the URI: it holds the password.
"""

import os
import sys
import time

import sqlalchemy

deadline = time.monotonic() + float(os.environ.get("MLFLOW_DB_WAIT_TIMEOUT", "300"))
engine = sqlalchemy.create_engine(os.environ["MLFLOW_BACKEND_STORE_URI"], poolclass=sqlalchemy.pool.NullPool)
while True:
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    except sqlalchemy.exc.OperationalError as err:
        # The driver's own message names host, port, user and database, never the password.
        reason = str(err.orig).strip().splitlines()[0] if err.orig else type(err).__name__
        if time.monotonic() > deadline:
            print(f"the database did not accept connections in time: {reason}", file=sys.stderr, flush=True)
            sys.exit(1)
        print(f"waiting for the database: {reason}", flush=True)
        time.sleep(5)
    else:
        print("the database accepts connections", flush=True)
        break
