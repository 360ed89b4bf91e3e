"""Payload logs of model servers (KServe's InferenceService logger, Seldon Core's request
logger) received as CloudEvents, paired request with response, and stored as events.

``cloudevent`` reads the HTTP message, ``payloads`` reads the V1 / Open Inference Protocol /
Seldon bodies, ``mapping`` says which model and features a server's tensors are, ``pairing``
keeps the first half until the second arrives, and ``receive`` ties them together.
"""
