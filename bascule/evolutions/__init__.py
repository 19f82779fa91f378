"""Line A: business mobile-data services and their change requests ("demandes d'évolution")."""
