"""Stock sync use cases (SPEC §5): the scheduled tick and the manual runs (`scheduler`), and the worker that
pushes one seller and region's quantities to Amazon (`worker`), which orchestrates what the run sends
(`planner`, over the listing snapshots of `snapshots`), how it reaches Amazon (`sender`) and how the feeds
it left pending are read back (`reconciler`).

The worker is safe to run again on the same message: a finished run is left alone, what was sent
is recorded before Amazon is asked to create a feed, and a feed whose creation was never recorded
is looked up on Amazon before anything is resent. A run whose account is deleted while it runs stops at
its next record, which the store refuses (`AccountDeleted`): the DELETE's clean-up is never undone by a
late write.
"""
