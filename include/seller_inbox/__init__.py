"""seller-inbox: the buyer-communication desk of multi-store Amazon sellers, as Airflow 3 pipelines.

The package holds all domain logic; it imports without a running Airflow. DAG files under
``dags/`` are thin calls into it.
"""

__version__ = "0.1.0"
